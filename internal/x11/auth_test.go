package x11

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestXauthorityFormat(t *testing.T) {
	c := &Cookie{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	want := []byte{0xff, 0xff, 0, 0, 0, 0, 0, 18}
	want = append(want, "MIT-MAGIC-COOKIE-1"...)
	want = append(want, 0, 16)
	want = append(want, c[:]...)
	if got := c.Xauthority(); !bytes.Equal(got, want) {
		t.Fatalf("Xauthority\n got %x\nwant %x", got, want)
	}
	if s := c.String(); s != AuthName {
		t.Errorf("String() = %q: the secret must not reach a log", s)
	}
	a, b := mustCookie(t), mustCookie(t)
	if *a == *b {
		t.Error("two cookies are equal")
	}
}

func mustCookie(t *testing.T) *Cookie {
	t.Helper()
	c, err := NewCookie()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// The display admits a client with its cookie (given per connection, or
// read from the Xauthority file as the app reads it) and refuses one
// without it or with another; Stop removes the private directory.
func TestXvfbAuth(t *testing.T) {
	// Xlib falls back to XAUTHORITY's file (or ~/.Xauthority) without an
	// explicit cookie: point it at nothing.
	t.Setenv("XAUTHORITY", filepath.Join(t.TempDir(), "none"))
	x := startXvfb(t, 320, 240)
	if x.Cookie() == nil || x.AuthFile() == "" {
		t.Fatal("no cookie by default")
	}
	// Every local user reads a process's argv: the cookie's file is not
	// in Xvfb's.
	argv, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", x.Pid()))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(argv), x.AuthFile()) || strings.Contains(string(argv), "streamstack-xauth") {
		t.Errorf("Xvfb's argv names the cookie file: %q", argv)
	}
	dir := filepath.Dir(x.AuthFile())
	for p, mode := range map[string]os.FileMode{dir: 0o700 | os.ModeDir, x.AuthFile(): 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode() != mode {
			t.Errorf("%s: mode %v, want %v", p, fi.Mode(), mode)
		}
	}

	if in, err := NewInput(x.Display, nil); !errors.Is(err, ErrOpen) {
		if in != nil {
			in.Close()
		}
		t.Fatalf("without the cookie: %v, want ErrOpen", err)
	}
	if _, err := NewCapturer(x.Display, mustCookie(t)); !errors.Is(err, ErrOpen) {
		t.Fatalf("with another cookie: %v, want ErrOpen", err)
	}
	in, err := NewInput(x.Display, x.Cookie())
	if err != nil {
		t.Fatalf("with the cookie: %v", err)
	}
	in.Close()
	c, err := NewCapturer(x.Display, x.Cookie())
	if err != nil {
		t.Fatalf("capture with the cookie: %v", err)
	}
	c.Close()

	// The file, read by libXau as any client (the app) reads it.
	t.Setenv("XAUTHORITY", x.AuthFile())
	in, err = NewInput(x.Display, nil)
	if err != nil {
		t.Fatalf("with XAUTHORITY=%s: %v", x.AuthFile(), err)
	}
	in.Close()

	x.Stop()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("auth directory left behind: %v", err)
	}
}

func TestXvfbNoAuth(t *testing.T) {
	t.Setenv("XAUTHORITY", filepath.Join(t.TempDir(), "none"))
	needXvfbBinary(t)
	x, err := StartXvfb(t.Context(), XvfbConfig{Width: 320, Height: 240, NoAuth: true})
	if err != nil {
		t.Fatal(err)
	}
	defer x.Stop()
	if x.Cookie() != nil || x.AuthFile() != "" {
		t.Fatal("NoAuth server has a cookie")
	}
	in, err := NewInput(x.Display, nil)
	if err != nil {
		t.Fatalf("NoAuth display refuses a client: %v", err)
	}
	in.Close()
}
