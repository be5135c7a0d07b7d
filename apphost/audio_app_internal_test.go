package apphost

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/internal/pulse"
)

// longRuntimeDir makes cfg's runtime directory n bytes long, as the
// agent's directory of a warm app is (it names the warm app, whose id
// names the agent): /tmp/streamstack-session-warm_vm-003285d6_<id>-<n> is
// 74 bytes, its container's sound socket 117 to 119.
func longRuntimeDir(t *testing.T, cfg *Config, n int) {
	t.Helper()
	pad := n - len(cfg.RuntimeDir) - 1
	if pad < 1 {
		t.Skipf("temporary directory %s is longer than %d bytes", cfg.RuntimeDir, n)
	}
	dir := filepath.Join(cfg.RuntimeDir, strings.Repeat("w", pad))
	if err := os.Mkdir(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o711); err != nil { // past the umask
		t.Fatal(err)
	}
	cfg.RuntimeDir = dir
}

// soundProbe reports whether the app reaches its sound server, then
// keeps running.
var soundProbe = apps.App{Name: "probe", Kind: apps.KindX11,
	Command: []string{"/bin/sh", "-c", "pactl info >/dev/null 2>&1 && echo sound-ok; echo ready; exec sleep 60"}}

func waitReport(t *testing.T, a *Host) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(a.stderr.String(), "ready") {
		if time.Now().After(deadline) {
			t.Fatalf("the app did not report: %q", a.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return a.stderr.String()
}

// A warm app's runtime directory is long enough that its container's
// sound socket path is longer than a Unix socket's address holds: the
// capture and the app in its container reach the sound server all the
// same. The daemon used to bind the path cut at 107 bytes, and the first
// warm app of most agents failed with its capture refused (the cut fell
// on the socket's directory) or streamed no sound (the socket had a cut
// name the app was never told).
func TestX11AppContainerSoundWithLongRuntimeDir(t *testing.T) {
	cfg := needContainers(t)
	longRuntimeDir(t, &cfg, 74)
	a, err := Start(context.Background(), cfg, soundProbe, 320, 240, x11TestLog())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if n := len(a.audio.server.Socket); n <= pulse.MaxSocketPath {
		t.Fatalf("socket path %d bytes: the test needs one longer than %d", n, pulse.MaxSocketPath)
	}
	if out := waitReport(t, a); !strings.Contains(out, "sound-ok") {
		t.Errorf("the app in its container does not reach its sound server:\n%s", out)
	}
}

// Without a container the app connects to the socket's own path: one as
// long as a warm app's fits (the sound server's directory has a short
// name inside the session's), and one too long for an address is a clear
// error at start, not an app without sound.
func TestX11AppProcessSoundWithLongRuntimeDir(t *testing.T) {
	needXvfb(t)
	cfg := processConfig()
	cfg.RuntimeDir = t.TempDir()
	for _, d := range []string{filepath.Dir(cfg.RuntimeDir), cfg.RuntimeDir} { // as the agent makes it
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	long := cfg
	longRuntimeDir(t, &cfg, 74)
	a, err := Start(context.Background(), cfg, soundProbe, 320, 240, x11TestLog())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if out := waitReport(t, a); !strings.Contains(out, "sound-ok") {
		t.Errorf("the app does not reach its sound server at %s:\n%s", a.audio.server.Socket, out)
	}

	longRuntimeDir(t, &long, 100)
	_, err = Start(context.Background(), long, soundProbe, 320, 240, x11TestLog())
	if !errors.Is(err, pulse.ErrSocketPath) {
		t.Fatalf("start with a %d-byte runtime directory: %v, want pulse.ErrSocketPath", len(long.RuntimeDir), err)
	}
}
