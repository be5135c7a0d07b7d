//go:build cgo

package x11

import (
	"slices"
	"testing"
)

// On a real Xvfb, Type remaps spare keys to the keysyms the keymap lacks
// and Close maps them back to nothing.
func TestTypeRemapsAndRestoresOnXvfb(t *testing.T) {
	x := startXvfb(t, 320, 240)
	in, err := NewInput(x.Display, x.Cookie())
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	watch, err := NewInput(x.Display, x.Cookie())
	if err != nil {
		t.Fatal(err)
	}
	defer watch.Close()
	before, err := watch.keymap()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(before.spare()); n < 64 {
		t.Fatalf("Xvfb's keymap has %d spare keycodes", n)
	}
	if dropped, err := in.Type("€ 中文 é\n"); err != nil || dropped != 0 {
		t.Fatalf("Type: dropped %d, %v", dropped, err)
	}
	after, err := watch.keymap()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range "€中文é" {
		sym, _ := RuneKeysym(r)
		if _, _, ok := after.find(sym); !ok {
			t.Errorf("no key for %c (%#x) after Type", r, sym)
		}
	}
	in.Close()
	restored, err := watch.keymap()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(restored.syms, before.syms) {
		t.Errorf("the keymap differs after Close")
	}
	if _, err := in.Type("a"); err != ErrClosed {
		t.Errorf("Type after Close: %v", err)
	}
}
