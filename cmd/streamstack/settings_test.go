package main

import (
	"os"
	"strings"
	"testing"
)

// TestREADMESettingsInStep fails when a setting changes without the README:
// regenerate the section with `go run ./cmd/streamstack settings`.
func TestREADMESettingsInStep(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const begin, end = "<!-- settings:begin -->\n", "<!-- settings:end -->"
	text := string(readme)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatal("README has no settings markers")
	}
	got := text[i+len(begin) : j]
	if want := settingsMarkdown(); got != want {
		t.Errorf("README settings section is stale; replace it with the output of `go run ./cmd/streamstack settings`:\n%s", want)
	}
}
