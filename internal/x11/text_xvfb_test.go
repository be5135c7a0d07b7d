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

// BenchmarkType: one input::text into Xvfb (no client reading it):
// "€ 中文 é" with its keys already remapped (the common case: a word
// after a word), and 100 distinct CJK runes, each a remap (the worst).
func BenchmarkType(b *testing.B) {
	x := startXvfb(b, 320, 240)
	in, err := NewInput(x.Display, x.Cookie())
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	var many []rune
	for r := rune(0x4e00); len(many) < 100; r++ {
		many = append(many, r)
	}
	for _, bc := range []struct{ name, text string }{{"word", "€ 中文 é"}, {"100-new-runes", string(many)}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; b.Loop(); i++ {
				text := bc.text
				if bc.name != "word" {
					// Other runes every time, so every one is a remap.
					text = string(many[:0])
					for _, r := range many {
						text += string(r + rune(i%2)*100)
					}
				}
				if dropped, err := in.Type(text); err != nil || dropped != 0 {
					b.Fatal(dropped, err)
				}
			}
		})
	}
}
