package benchmark

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"
)

func TestIsStreamerProcess(t *testing.T) {
	for _, c := range []struct {
		cmdline []string
		want    bool
	}{
		{[]string{"/usr/bin/streamstack", "streamer", "--session-id", "01k99"}, true},
		{[]string{"/work/bin/streamstack", "streamer-host", "--sessions", "4", "--requests-fd", "3", "--events-fd", "4"}, true},
		{[]string{"setpriv", "--pdeathsig", "KILL", "/usr/bin/streamstack", "streamer"}, true},
		{[]string{"/usr/bin/ffmpeg", "-hide_banner", "-i", "pipe:0"}, false},
		{[]string{"/usr/bin/streamstack", "bench", "--density"}, false},
		{[]string{"streamer"}, false}, // a binary named so, not the subcommand
		{nil, false},
	} {
		if got := IsStreamerProcess(c.cmdline); got != c.want {
			t.Errorf("IsStreamerProcess(%q) = %v, want %v", c.cmdline, got, c.want)
		}
	}
	ffmpeg := isCommand("/usr/bin/ffmpeg")
	if !ffmpeg([]string{"ffmpeg", "-i", "x"}) || !ffmpeg([]string{"/opt/ffmpeg/bin/ffmpeg"}) || ffmpeg([]string{"/usr/bin/streamstack", "streamer"}) || ffmpeg(nil) {
		t.Error("isCommand(ffmpeg) matches the wrong command lines")
	}
}

func TestProcCmdline(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cmdline")
	if err := os.WriteFile(p, []byte("/usr/bin/streamstack\x00streamer-host\x00--sessions\x004\x00"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, want := procCmdline(p), []string{"/usr/bin/streamstack", "streamer-host", "--sessions", "4"}; !slices.Equal(got, want) {
		t.Errorf("procCmdline = %q, want %q", got, want)
	}
	if got := procCmdline(filepath.Join(t.TempDir(), "gone")); got != nil {
		t.Errorf("a process gone: %q", got)
	}
}

// TestChildrenCPUByCommandLine runs a child that looks like a streamer
// host to /proc and spins: its CPU counts as the streamers', not as
// ffmpeg's.
func TestChildrenCPUByCommandLine(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	// sh -c SCRIPT NAME ARGS: the child's command line is sh's argv, and
	// "streamer-host" is one of its arguments.
	cmd := exec.Command("sh", "-c", "while :; do :; done", "streamstack", "streamer-host", "--sessions", "4")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	}()
	deadline := time.Now().Add(30 * time.Second)
	for childrenCPU(IsStreamerProcess) < 20*time.Millisecond {
		if time.Now().After(deadline) {
			t.Fatalf("the spinning streamer-host child never showed 20 ms of CPU (%v)", childrenCPU(IsStreamerProcess))
		}
		time.Sleep(5 * time.Millisecond) // polling /proc: there is no event for CPU time
	}
	if got := childrenCPU(isCommand("/usr/bin/ffmpeg")); got != 0 {
		t.Errorf("ffmpeg's CPU %v, want 0: the streamer host's counted as ffmpeg's", got)
	}
}
