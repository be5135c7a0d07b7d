package apps_test

import (
	"fmt"

	"github.com/streamstack/streamstack/apps"
)

func ExampleParse() {
	c, err := apps.Parse([]byte(`{"apps": [
		{"name": "test-pattern", "kind": "pattern"},
		{"name": "editor", "kind": "x11", "command": ["xedit"], "user": "streamapp",
		 "screen": {"width": 1024, "height": 768}, "limits": {"address_space_mb": 2048, "nofile": 512}}
	]}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range c.List() {
		fmt.Println(a.Name, a.Kind, a.Command, a.Screen.Width, a.Limits.NoFile)
	}
	if _, err := c.Lookup("xterm"); err != nil {
		fmt.Println(err)
	}
	// Output:
	// test-pattern pattern [] 0 0
	// editor x11 [xedit] 1024 512
	// unknown application "xterm"
}
