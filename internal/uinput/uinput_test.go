//go:build linux

package uinput

import (
	"errors"
	"io"
	"os"
	"testing"
	"time"
	"unsafe"
)

// readEvents reads n input_event structs (type, code, value) from r.
func readEvents(t *testing.T, r io.Reader, n int) []event {
	t.Helper()
	buf := make([]byte, n*sizeofEvent)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	var evs []event
	for i := range n {
		b := buf[i*sizeofEvent+sizeofEvent-8:]
		evs = append(evs, event{*(*uint16)(unsafe.Pointer(&b[0])), *(*uint16)(unsafe.Pointer(&b[2])),
			*(*int32)(unsafe.Pointer(&b[4]))})
	}
	return evs
}

func checkEvents(t *testing.T, what string, got []event, want ...event) {
	t.Helper()
	want = append(want, event{evSyn, synReport, 0})
	if len(got) != len(want) {
		t.Fatalf("%s: %v, want %v", what, got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%s: %v, want %v", what, got, want)
			return
		}
	}
}

// The events a pad writes for the standard mapping's buttons and axes,
// through a pipe in place of the uinput device: runs anywhere.
func TestGamepadEvents(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = r.Close() }()
	g := &Gamepad{f: w}
	defer func() { _ = w.Close() }()

	steps := []struct {
		name string
		do   func() error
		want []event
	}{
		{"A down", func() error { return g.Button(0, true) }, []event{{evKey, btnSouth, 1}}},
		{"A up", func() error { return g.Button(0, false) }, []event{{evKey, btnSouth, 0}}},
		{"X", func() error { return g.Button(2, true) }, []event{{evKey, btnX, 1}}},
		{"Y", func() error { return g.Button(3, true) }, []event{{evKey, btnY, 1}}},
		{"left trigger", func() error { return g.Button(6, true) }, []event{{evKey, btnTL2, 1}, {evAbs, absZ, triggerMax}}},
		{"home", func() error { return g.Button(16, true) }, []event{{evKey, btnMode, 1}}},
		{"d-pad up", func() error { return g.Button(12, true) }, []event{{evAbs, absHat0Y, -1}}},
		{"d-pad down too", func() error { return g.Button(13, true) }, []event{{evAbs, absHat0Y, 0}}},
		{"d-pad up released", func() error { return g.Button(12, false) }, []event{{evAbs, absHat0Y, 1}}},
		{"d-pad right", func() error { return g.Button(15, true) }, []event{{evAbs, absHat0X, 1}}},
		{"left stick left", func() error { return g.Axis(0, -1) }, []event{{evAbs, absX, -stickMax}}},
		{"right stick y centre", func() error { return g.Axis(3, 0) }, []event{{evAbs, absRY, 0}}},
		{"clamped", func() error { return g.Axis(2, 7) }, []event{{evAbs, absRX, stickMax}}},
		{"trigger axis half", func() error { return g.Axis(5, 0) }, []event{{evAbs, absRZ, 128}}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		checkEvents(t, s.name, readEvents(t, r, len(s.want)+1), s.want...)
	}
	if err := g.Button(20, true); !errors.Is(err, ErrRange) {
		t.Errorf("button 20: %v", err)
	}
	if err := g.Axis(6, 0); !errors.Is(err, ErrRange) {
		t.Errorf("axis 6: %v", err)
	}
}

func TestOpenUnavailable(t *testing.T) {
	if _, err := Open("/nonexistent/uinput", "x"); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("missing device: %v", err)
	}
}

// A real device, where this machine lets us make one: what the pad does
// arrives on its /dev/input/eventN, and Close removes it.
func TestGamepadDevice(t *testing.T) {
	g, err := Open("", "streamstack test pad")
	if errors.Is(err, ErrUnavailable) {
		t.Skipf("no uinput here (%v): modprobe uinput and run as root or with access to %s", err, DefaultPath)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = g.Close() }()
	path, err := g.EventPath(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ev.Close() }()
	if err := ev.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Logf("no read deadline on %s: %v", path, err)
	}
	if err := g.Button(1, true); err != nil {
		t.Fatal(err)
	}
	checkEvents(t, "B on "+path, readEvents(t, ev, 2), event{evKey, btnEast, 1})
	if err := g.Axis(1, 1); err != nil {
		t.Fatal(err)
	}
	checkEvents(t, "left stick down", readEvents(t, ev, 2), event{evAbs, absY, stickMax})
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if err := g.Button(1, false); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
}
