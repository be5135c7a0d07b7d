package pulse

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// deepDir makes a directory whose path is n bytes long under t.TempDir.
func deepDir(t *testing.T, n int) string {
	t.Helper()
	base := t.TempDir()
	pad := n - len(base) - 1
	if pad < 1 || pad > 255 {
		t.Skipf("temporary directory %s leaves no room for a %d-byte path", base, n)
	}
	dir := filepath.Join(base, strings.Repeat("d", pad))
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

// A socket whose path is longer than a Unix socket's address holds (a
// warm app's session directory names its agent, and so the host) is made
// at that path, and both this process and an app of the container (which
// binds the directory in at a short path) connect to it. The daemon used
// to bind the path cut at 107 bytes: where the cut fell on the socket's
// directory, its socket module failed to load and the capture was refused
// (the warm app's "Connection refused"); elsewhere the socket got the cut
// name, which the app was never told.
func TestSocketPathLongerThanAnAddress(t *testing.T) {
	if _, err := exec.LookPath("pulseaudio"); err != nil {
		t.Skip("pulseaudio not installed (scripts/install-deps.sh installs it):", err)
	}
	for _, tc := range []struct {
		name string
		dir  int // the socket directory's path length
	}{
		// The path's first 107 bytes are the directory itself.
		{"cut at its directory", MaxSocketPath},
		// Cut in "native": a socket named "nat".
		{"cut in its name", MaxSocketPath - 4},
		{"far longer", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sockDir := deepDir(t, tc.dir)
			s, err := StartServer(context.Background(), ServerConfig{UID: -1, SocketDir: sockDir})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = s.Close() }()
			if fi, err := os.Lstat(s.Socket); err != nil || fi.Mode().Type() != fs.ModeSocket {
				t.Fatalf("no socket at %s (%v); the directory holds %v", s.Socket, err, dirNames(sockDir))
			}
			if names := dirNames(sockDir); len(names) != 1 {
				t.Errorf("socket directory holds %v, want the socket only", names)
			}
			rec, err := s.NewMonitorRecorder(StreamConfig{})
			if err != nil {
				t.Fatalf("capture refused: %v (daemon log: %s)", err, s.Log())
			}
			defer func() { _ = rec.Close() }()
			play, err := NewPlayer(StreamConfig{Server: s.Addr()})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { _ = play.Close() }()
			if err := play.Write(tone(25, 1000, 0.5)); err != nil {
				t.Fatal(err)
			}
			readUntilSound(t, rec, 100)
			// Another process cannot connect to so long a path: Env says so
			// instead of handing it a path its libpulse would cut.
			if _, err := s.Env(); !errors.Is(err, ErrSocketPath) {
				t.Errorf("Env: %v, want ErrSocketPath", err)
			}
		})
	}
}

// A socket path that fits is what Env hands another process.
func TestEnvNamesTheSocket(t *testing.T) {
	s := startServer(t)
	env, err := s.Env()
	if err != nil {
		t.Fatal(err)
	}
	if env != "PULSE_SERVER=unix:"+s.Socket {
		t.Fatalf("Env = %q, want PULSE_SERVER=unix:%s", env, s.Socket)
	}
	cmd := exec.CommandContext(t.Context(), "pactl", "info")
	// A HOME of its own: pactl writes its cookie there.
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=" + os.Getenv("PATH"), env}
	if out, err := cmd.CombinedOutput(); err != nil {
		if errors.Is(err, exec.ErrNotFound) {
			t.Skip("pactl not installed")
		}
		t.Fatalf("pactl through Env: %v: %s", err, out)
	}
}

func dirNames(dir string) []string {
	ents, _ := os.ReadDir(dir)
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}
