package x11

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

const clipTestText = "héllo € 中文 😀\nline two"

func needXclip(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("xclip"); err != nil {
		tb.Skip("xclip not installed (scripts/install-deps.sh installs it)")
	}
}

// xclipCmd is xclip on x's display, as the app inside it would run it.
func xclipCmd(x *Xvfb, args ...string) *exec.Cmd {
	cmd := exec.Command("xclip", args...)
	cmd.Env = append(os.Environ(), "DISPLAY="+x.Display, "XAUTHORITY="+x.AuthFile())
	return cmd
}

func newTestClipboard(t *testing.T, x *Xvfb, max int) (*Clipboard, chan ClipboardChange) {
	t.Helper()
	changes := make(chan ClipboardChange, 16)
	cb, err := NewClipboard(x.Display, x.Cookie(), max, func(c ClipboardChange) { changes <- c })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cb.Close)
	return cb, changes
}

func TestClipboardSetIsPastedInside(t *testing.T) {
	needXclip(t)
	x := startXvfb(t, 320, 240)
	cb, _ := newTestClipboard(t, x, 1<<20)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cb.Set(clipTestText); err != nil {
		t.Fatal(err)
	}
	if err := cb.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-o", "-selection", "clipboard"}, clipTestText},
		{[]string{"-o", "-selection", "primary"}, clipTestText},
		{[]string{"-o", "-selection", "clipboard", "-t", "UTF8_STRING"}, clipTestText},
		// STRING is ISO 8859-1: what it cannot hold becomes '?'.
		{[]string{"-o", "-selection", "clipboard", "-t", "STRING"}, "h\xe9llo ? ?? ?\nline two"},
		{[]string{"-o", "-selection", "clipboard", "-t", "TARGETS"}, "TARGETS\nUTF8_STRING\nSTRING\nTEXT\n"},
	} {
		out, err := xclipCmd(x, tc.args...).Output()
		if err != nil {
			t.Fatalf("xclip %v: %v", tc.args, err)
		}
		if string(out) != tc.want {
			t.Errorf("xclip %v = %q, want %q", tc.args, out, tc.want)
		}
	}
	if err := cb.Set(strings.Repeat("x", 1<<20+1)); err == nil {
		t.Error("a text over the limit was taken")
	}
	if err := cb.Set("\xff\xfe"); err == nil {
		t.Error("a text that is not UTF-8 was taken")
	}
}

// copyInside puts text on sel with xclip, which serves it until the
// clipboard has read it; it returns what the clipboard reported.
func copyInside(t *testing.T, x *Xvfb, changes chan ClipboardChange, sel, text string) ClipboardChange {
	t.Helper()
	cmd := xclipCmd(x, "-i", "-quiet", "-selection", sel)
	cmd.Stdin = strings.NewReader(text)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	select {
	case c := <-changes:
		return c
	case <-time.After(30 * time.Second):
		t.Fatalf("no change after xclip -i -selection %s", sel)
	}
	return ClipboardChange{}
}

func TestClipboardCopyInsideArrives(t *testing.T) {
	needXclip(t)
	x := startXvfb(t, 320, 240)
	cb, changes := newTestClipboard(t, x, 64)
	if c := copyInside(t, x, changes, "clipboard", clipTestText); c != (ClipboardChange{Selection: SelectionClipboard, Text: clipTestText}) {
		t.Fatalf("change %+v", c)
	}
	if c := copyInside(t, x, changes, "primary", "prim"); c != (ClipboardChange{Selection: SelectionPrimary, Text: "prim"}) {
		t.Fatalf("change %+v", c)
	}
	if c := copyInside(t, x, changes, "clipboard", strings.Repeat("y", 65)); c != (ClipboardChange{Selection: SelectionClipboard, TooLarge: true}) {
		t.Fatalf("change %+v", c)
	}
	// Our own Set is no change to report, and the app's copy after it is.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cb.Set("ours"); err != nil {
		t.Fatal(err)
	}
	if err := cb.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if c := copyInside(t, x, changes, "clipboard", "theirs"); c != (ClipboardChange{Selection: SelectionClipboard, Text: "theirs"}) {
		t.Fatalf("change %+v", c)
	}
}

func TestClipboardEndsWithTheDisplay(t *testing.T) {
	x := startXvfb(t, 320, 240)
	cb, _ := newTestClipboard(t, x, 64)
	x.Stop()
	select {
	case <-cb.Done():
	case <-time.After(30 * time.Second):
		t.Fatal("the clipboard outlived its display")
	}
	if err := cb.Set("late"); !errors.Is(err, ErrClosed) {
		t.Fatalf("Set after the display ended: %v", err)
	}
}
