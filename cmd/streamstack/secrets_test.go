package main

import (
	"bytes"
	"flag"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/streamstack/streamstack/internal/flagenv"
)

func TestRedactNATSURL(t *testing.T) {
	for in, want := range map[string]string{
		"nats://internal:s3cret@127.0.0.1:4222":            "nats://internal:xxxxx@127.0.0.1:4222",
		"nats://a:s3cret@h1:4222, nats://b:s3cret@h2:4222": "nats://a:xxxxx@h1:4222,nats://b:xxxxx@h2:4222",
		"u:s3cret@h:4222":       "nats://u:xxxxx@h:4222", // nats.Connect's default scheme
		"nats://s3cret@h:4222":  "nats://xxxxx@h:4222",   // a user alone is a token
		"nats://127.0.0.1:4222": "nats://127.0.0.1:4222",
		"nats://u:s3 cret@h:x":  "(a URL that does not parse)",
		"":                      "",
	} {
		got := redactNATSURL(in)
		if got != want || strings.Contains(got, "s3") {
			t.Errorf("redactNATSURL(%q) = %q, want %q", in, got, want)
		}
	}
}

// serveWith parses serve's flags from args and env, then settles the admin
// token; it returns the token and what was logged.
func serveWith(t *testing.T, args []string, env map[string]string) (string, string, error) {
	t.Helper()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	f := newServeFlags(fs)
	if err := flagenv.Parse(fs, args, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	err := f.settleAdminToken(fs, args, slog.New(slog.NewTextHandler(&logged, nil)))
	return f.adminToken, logged.String(), err
}

func TestAdminTokenFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "admin-token")
	const secret = "a-token-of-at-least-16-characters"
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	token, logged, err := serveWith(t, []string{"--admin-token-file", path}, nil)
	if err != nil || token != secret || logged != "" {
		t.Fatalf("0600 file: token %q, logged %q, err %v", token, logged, err)
	}
	if token, _, err = serveWith(t, nil, map[string]string{"STREAMSTACK_ADMIN_TOKEN_FILE": path}); err != nil || token != secret {
		t.Fatalf("file from the environment: token %q, err %v", token, err)
	}

	for _, mode := range []os.FileMode{0o644, 0o640, 0o604, 0o620} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		_, _, err := serveWith(t, []string{"--admin-token-file", path}, nil)
		if err == nil || !strings.Contains(err.Error(), "group or others") || strings.Contains(err.Error(), secret) {
			t.Errorf("mode %#o: %v, want refused", mode, err)
		}
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, _, err := serveWith(t, []string{"--admin-token-file", path},
		map[string]string{"STREAMSTACK_ADMIN_TOKEN": secret}); err == nil {
		t.Error("--admin-token-file and STREAMSTACK_ADMIN_TOKEN both taken")
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := serveWith(t, []string{"--admin-token-file", empty}, nil); err == nil {
		t.Error("an empty token file taken")
	}
}

// --admin-token on the command line, which ps shows every local user, is
// warned about; from the environment it is not.
func TestAdminTokenOnCommandLineWarns(t *testing.T) {
	const secret = "a-token-of-at-least-16-characters"
	for _, args := range [][]string{{"--admin-token", secret}, {"--log-json", "-admin-token=" + secret}} {
		token, logged, err := serveWith(t, args, nil)
		if err != nil || token != secret || !strings.Contains(logged, "level=WARN") || !strings.Contains(logged, "ps") ||
			!strings.Contains(logged, "STREAMSTACK_ADMIN_TOKEN") || !strings.Contains(logged, "--admin-token-file") {
			t.Errorf("%q: token %q, logged %q, err %v", args, token, logged, err)
		}
		if strings.Contains(logged, secret) {
			t.Errorf("%q: the warning logs the token: %s", args, logged)
		}
	}
	// A flag's value that reads like the flag is not the flag.
	token, logged, err := serveWith(t, []string{"--region", "--admin-token", "--ice-tcp"},
		map[string]string{"STREAMSTACK_ADMIN_TOKEN": secret})
	if err != nil || token != secret || logged != "" {
		t.Errorf("from the environment: token %q, logged %q, err %v", token, logged, err)
	}
}

func TestReadNATSURL(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	const u = "nats://internal:s3cret@127.0.0.1:4222"
	if _, err := w.WriteString(u + "\n"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// readNATSURL closes the descriptor it reads, as a streamer does with
	// the one it inherited: hand it a copy.
	fd, err := syscall.Dup(int(r.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	got, err := readNATSURL(fd)
	if err != nil || got != u {
		t.Fatalf("read %q, %v", got, err)
	}
	if err := syscall.Close(fd); err != syscall.EBADF {
		t.Errorf("descriptor %d left open: %v", fd, err)
	}
	if _, err := readNATSURL(fd); err == nil {
		t.Error("a closed descriptor read")
	}
}
