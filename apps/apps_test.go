package apps

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDefault(t *testing.T) {
	c := Default()
	for _, name := range []string{"test-pattern", "xterm"} {
		if _, err := c.Lookup(name); err != nil {
			t.Error(err)
		}
	}
	if _, err := c.Lookup("nope"); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown: %v", err)
	}
	x, _ := c.Lookup("xterm")
	x.Command[0] = "changed"
	if y, _ := c.Lookup("xterm"); y.Command[0] != "xterm" {
		t.Error("Lookup shares the command slice")
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "apps.json")
	if err := os.WriteFile(path, []byte(`{"apps":[{"name":"paint","kind":"x11","command":["xpaint"],
		"screen":{"width":800,"height":600},"limits":{"nofile":256}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.Lookup("paint")
	if err != nil || a.Limits.NoFile != 256 || a.Screen.Width != 800 {
		t.Fatalf("%+v %v", a, err)
	}
	if c, err := Load(""); err != nil || len(c.List()) != 2 {
		t.Errorf("default: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for name, js := range map[string]string{
		"unknown field": `{"apps":[{"name":"a","kind":"pattern","colour":1}]}`,
		"no apps":       `{"apps":[]}`,
		"bad kind":      `{"apps":[{"name":"a","kind":"vm"}]}`,
		"x11 no cmd":    `{"apps":[{"name":"a","kind":"x11"}]}`,
		"pattern cmd":   `{"apps":[{"name":"a","kind":"pattern","command":["x"]}]}`,
		"twice":         `{"apps":[{"name":"a","kind":"pattern"},{"name":"a","kind":"pattern"}]}`,
		"bad name":      `{"apps":[{"name":"a b","kind":"pattern"}]}`,
		"odd screen":    `{"apps":[{"name":"a","kind":"pattern","screen":{"width":801}}]}`,
		"neg limit":     `{"apps":[{"name":"a","kind":"x11","command":["x"],"limits":{"nproc":-1}}]}`,
		"bad env":       `{"apps":[{"name":"a","kind":"x11","command":["x"],"env":["NOEQUALS"]}]}`,
		"not json":      `apps:`,
	} {
		if _, err := Parse([]byte(js)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
