package x11

import (
	"fmt"
	"slices"
	"testing"
)

func TestRuneKeysym(t *testing.T) {
	for _, tc := range []struct {
		r    rune
		sym  uint32
		want bool
	}{
		{'a', 'a', true}, {'A', 'A', true}, {' ', 0x20, true}, {'~', 0x7e, true},
		{'é', 0xe9, true}, {'\u00a0', 0xa0, true}, {'ÿ', 0xff, true},
		{'€', 0x010020ac, true}, {'中', 0x01004e2d, true}, {'🙂', 0x0101f642, true},
		{'\n', 0xff0d, true}, {'\t', 0xff09, true},
		{0, 0, false}, {'\r', 0, false}, {0x1b, 0, false}, {0x7f, 0, false}, {0x85, 0, false},
		{0xd800, 0, false}, {0x110000, 0, false},
	} {
		sym, ok := RuneKeysym(tc.r)
		if sym != tc.sym || ok != tc.want {
			t.Errorf("RuneKeysym(%U) = %#x, %v; want %#x, %v", tc.r, sym, ok, tc.sym, tc.want)
		}
	}
}

// testKeymap is a small keymap of 3 columns from keycode 8: a/A at 10,
// 1/! at 11, space at 12, Shift_L at 13, and keycodes 14-16 free.
func testKeymap() keymap {
	m := keymap{min: 8, per: 3, syms: make([]uint32, 9*3)}
	set := func(kc int, syms ...uint32) { copy(m.syms[(kc-8)*3:], syms) }
	set(8, 0xff1b)
	set(9, 'q', 'Q')
	set(10, 'a', 'A', 'a')
	set(11, '1', '!')
	set(12, ' ')
	set(13, xkShiftL)
	return m
}

func TestPlanUsesTheKeymapWithShiftLevels(t *testing.T) {
	var ty typist
	remaps, strokes, dropped := ty.plan("aA !", testKeymap(), false)
	want := []stroke{{10, false}, {10, true}, {12, false}, {11, true}}
	if len(remaps) != 0 || dropped != 0 || !slices.Equal(strokes, want) {
		t.Errorf("remaps %v strokes %v dropped %d; want strokes %v", remaps, strokes, dropped, want)
	}
}

func TestPlanRemapsSpareKeys(t *testing.T) {
	var ty typist
	m := testKeymap()
	remaps, strokes, dropped := ty.plan("€中€a", m, false)
	if want := []remap{{14, []uint32{0x010020ac, 0x010020ac}}, {15, []uint32{0x01004e2d, 0x01004e2d}}}; fmt.Sprint(remaps) != fmt.Sprint(want) {
		t.Errorf("remaps %v, want %v", remaps, want)
	}
	if want := []stroke{{14, false}, {15, false}, {14, false}, {10, false}}; !slices.Equal(strokes, want) || dropped != 0 {
		t.Errorf("strokes %v dropped %d, want %v", strokes, dropped, want)
	}
	// The server now has them: the next text reuses the mapping.
	m.syms[(14-8)*3], m.syms[(14-8)*3+1] = 0x010020ac, 0x010020ac
	m.syms[(15-8)*3], m.syms[(15-8)*3+1] = 0x01004e2d, 0x01004e2d
	remaps, strokes, _ = ty.plan("中", m, false)
	if len(remaps) != 0 || !slices.Equal(strokes, []stroke{{15, false}}) {
		t.Errorf("second text: remaps %v strokes %v", remaps, strokes)
	}
	// A third keysym takes the last free key, the next ones the least
	// recently used (€ at 14, then 中 at 15), the last none: every
	// spare key has typed in this text.
	remaps, strokes, dropped = ty.plan("éüxy", m, false)
	if want := []remap{{16, []uint32{0xe9, 0xe9}}, {14, []uint32{0xfc, 0xfc}}, {15, []uint32{'x', 'x'}}}; fmt.Sprint(remaps) != fmt.Sprint(want) || dropped != 1 || len(strokes) != 3 {
		t.Errorf("third text: remaps %v strokes %v dropped %d", remaps, strokes, dropped)
	}
	// Restored as they were: empty.
	if got, want := ty.restore(), []remap{{14, []uint32{0, 0, 0}}, {15, []uint32{0, 0, 0}}, {16, []uint32{0, 0, 0}}}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("restore %v", got)
	}
}

func TestPlanShiftHeld(t *testing.T) {
	var ty typist
	// With shift held a level-0 key would type its shifted keysym: a
	// spare key gets the keysym at both levels instead; a level-1 key
	// needs no further shift.
	remaps, strokes, _ := ty.plan("aA", testKeymap(), true)
	if want := []remap{{14, []uint32{'a', 'a'}}}; fmt.Sprint(remaps) != fmt.Sprint(want) {
		t.Errorf("remaps %v, want %v", remaps, want)
	}
	if want := []stroke{{14, false}, {10, false}}; !slices.Equal(strokes, want) {
		t.Errorf("strokes %v, want %v", strokes, want)
	}
}

func TestPlanForgetsKeysTheAppTook(t *testing.T) {
	var ty typist
	m := testKeymap()
	ty.plan("€", m, false) // 14 gets €
	m.syms[(14-8)*3] = 'z' // the app maps 14 (and 15) itself
	m.syms[(15-8)*3] = 'y'
	remaps, strokes, _ := ty.plan("€", m, false)
	if want := []remap{{16, []uint32{0x010020ac, 0x010020ac}}}; fmt.Sprint(remaps) != fmt.Sprint(want) || !slices.Equal(strokes, []stroke{{16, false}}) {
		t.Errorf("remaps %v strokes %v", remaps, strokes)
	}
	if got := ty.restore(); len(got) != 1 || got[0].kc != 16 {
		t.Errorf("restore %v: keys the app took are its own", got)
	}
}

func TestPlanDropsWhatHasNoKeysym(t *testing.T) {
	var ty typist
	if _, strokes, dropped := ty.plan("a\x00\r", testKeymap(), false); dropped != 2 || len(strokes) != 1 {
		t.Errorf("strokes %v dropped %d", strokes, dropped)
	}
	if _, strokes, dropped := ty.plan("€", keymap{min: 8, per: 2}, false); dropped != 1 || len(strokes) != 0 {
		t.Errorf("no spare keys: strokes %v dropped %d", strokes, dropped)
	}
}

// Keys the client cannot press (a media key, the keypad's, "<" on the
// key pc105 adds) are spare after the empty ones; keys of input::key and
// modifiers' are not. A spare key typing its own keysym is not remapped
// in the same text.
func TestSpareKeys(t *testing.T) {
	m := keymap{min: 8, per: 2, syms: []uint32{
		0x1008ff14, 0, // 8: XF86AudioPlay
		0, 0, // 9: empty
		'a', 'A', // 10
		0xffb1, 0xff9c, // 11: KP_1, KP_End
		0xfe03, 0, // 12: ISO_Level3_Shift
		xkShiftL, 0, // 13
		'<', '>', // 14
		0xff0d, 0, // 15: Return
	}}
	if got, want := m.spare(), []int{9, 8, 11, 14}; !slices.Equal(got, want) {
		t.Fatalf("spare %v, want %v", got, want)
	}
	var ty typist
	// <, then four runes for four spare keys but 14, which typed "<".
	remaps, strokes, dropped := ty.plan("<éèêë", m, false)
	if len(remaps) != 3 || dropped != 1 || len(strokes) != 4 || strokes[0] != (stroke{14, false}) {
		t.Errorf("remaps %v strokes %v dropped %d", remaps, strokes, dropped)
	}
	for _, r := range remaps {
		if r.kc == 14 {
			t.Errorf("remapped the key that typed < in the same text: %v", remaps)
		}
	}
	if got := ty.restore(); fmt.Sprint(got) != fmt.Sprint([]remap{{8, []uint32{0x1008ff14, 0}}, {9, []uint32{0, 0}}, {11, []uint32{0xffb1, 0xff9c}}}) {
		t.Errorf("restore %v", got)
	}
}
