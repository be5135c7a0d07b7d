package main

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The binary links none of the libraries its packages load on first use
// (internal/pulse, internal/avcodec): linked, every process (the gateway,
// an agent, a streamer host, a test-pattern session) would map them and
// the dozens they need at its start (issue 16).
func TestBinaryLinksNoLibraryLoadedOnFirstUse(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	ldd, err := exec.LookPath("ldd")
	if err != nil {
		t.Skip("no ldd to list the binary's libraries:", err)
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the binary:", err)
	}
	bin := filepath.Join(t.TempDir(), "streamstack")
	if out, err := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v: %s", err, out)
	}
	out, err := exec.CommandContext(t.Context(), ldd, bin).CombinedOutput()
	if err != nil {
		t.Fatalf("ldd: %v: %s", err, out)
	}
	for _, lib := range []string{"libpulse.so", "libpulse-simple.so", "libavcodec.so", "libavutil.so"} {
		if strings.Contains(string(out), lib) {
			t.Errorf("the binary links %s, which its package loads on first use:\n%s", lib, out)
		}
	}
}
