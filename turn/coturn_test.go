package turn

import (
	"os"
	"strings"
	"testing"
)

func TestCoturnDeniedPeers(t *testing.T) {
	got := CoturnDeniedPeers()
	want := map[string]bool{
		"0.0.0.0-0.255.255.255":       true,
		"10.0.0.0-10.255.255.255":     true,
		"169.254.0.0-169.254.255.255": true,
		"::":                          true,
		"::1":                         true,
		"fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff": true,
		"fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff": true,
	}
	for _, g := range got {
		delete(want, g)
	}
	if len(want) != 0 {
		t.Errorf("missing %v in %v", want, got)
	}
}

// TestDocsListTheDenyList keeps docs/turn.md's coturn configuration in
// step with the embedded server's policy.
func TestDocsListTheDenyList(t *testing.T) {
	doc, err := os.ReadFile("../docs/turn.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range CoturnDeniedPeers() {
		if !strings.Contains(string(doc), "\ndenied-peer-ip="+r+"\n") {
			t.Errorf("docs/turn.md lacks the line denied-peer-ip=%s", r)
		}
	}
}
