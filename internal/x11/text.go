package x11

import "slices"

// Typing text as Unicode (issue 18, the control channel's input::text):
// each rune becomes the keysym that means it, pressed on a key that the
// display's keymap already maps to it, or else on a spare key remapped
// to it for the while: one that maps to nothing, or only to keysyms no
// input::key can make (media keys, the keypad's), keys a streamed app
// would never get otherwise. This file is the plan,
// free of Xlib so it can be tested alone; text_cgo.go carries it out.

// RuneKeysym is the keysym that types r: Latin-1 runes are their own
// keysyms, newline and tab the Return and Tab keys, any other rune the
// Unicode keysym 0x01000000|r (what Xlib turns back into the rune). It
// is false for control characters, surrogates and runes beyond Unicode.
func RuneKeysym(r rune) (uint32, bool) {
	switch {
	case r == '\n':
		return 0xff0d, true // Return
	case r == '\t':
		return 0xff09, true // Tab
	case r >= 0x20 && r <= 0x7e, r >= 0xa0 && r <= 0xff:
		return uint32(r), true
	case r < 0xa0, r >= 0xd800 && r <= 0xdfff, r > 0x10ffff:
		return 0, false
	}
	return 0x01000000 | uint32(r), true
}

// noSymbol is X's NoSymbol: a keymap entry that types nothing.
const noSymbol = 0

// keymap is a snapshot of the display's core keyboard mapping: per
// keysyms for each keycode from min on; columns 0 and 1 are the first
// group's unshifted and shifted levels.
type keymap struct {
	min, per int
	syms     []uint32
}

func (m keymap) keycodes() int {
	if m.per <= 0 {
		return 0
	}
	return len(m.syms) / m.per
}

// sym is keycode kc's keysym at column col.
func (m keymap) sym(kc, col int) uint32 {
	i := (kc-m.min)*m.per + col
	if kc < m.min || col >= m.per || i >= len(m.syms) {
		return noSymbol
	}
	return m.syms[i]
}

// find is the lowest keycode that types sym in the first group, and
// whether it needs shift.
func (m keymap) find(sym uint32) (kc int, shift, ok bool) {
	for col := range min(m.per, 2) {
		for i := range m.keycodes() {
			if m.syms[i*m.per+col] == sym {
				return m.min + i, col == 1, true
			}
		}
	}
	return 0, false, false
}

// row is keycode kc's keysyms, a copy.
func (m keymap) row(kc int) []uint32 {
	out := make([]uint32, m.per)
	for col := range m.per {
		out[col] = m.sym(kc, col)
	}
	return out
}

// spare lists the keycodes free to remap, those that map to nothing
// first: a keycode is spare when none of its keysyms is one input::key
// can make (the client could not press it anyway) or a modifier's (the
// modifier map would still make it one).
func (m keymap) spare() []int {
	var empty, unused []int
	for i := range m.keycodes() {
		kc, none, spare := m.min+i, true, true
		for _, s := range m.row(kc) {
			none = none && s == noSymbol
			spare = spare && (s == noSymbol || !reachable(s) && !modifierKeysym(s))
		}
		switch {
		case none:
			empty = append(empty, kc)
		case spare:
			unused = append(unused, kc)
		}
	}
	return append(empty, unused...)
}

// reachable is whether input::key makes keysym s, or typing needs it.
func reachable(s uint32) bool {
	if s == xkShiftL {
		return true
	}
	for _, k := range androidKeysyms {
		if k == s {
			return true
		}
	}
	// Letters map to lower-case keysyms; the upper-case ones come with
	// Shift on the same key.
	return s >= 'A' && s <= 'Z'
}

// modifierKeysym is whether s is a modifier's keysym (Shift_L…Hyper_R,
// Mode_switch, Num_Lock, the ISO level and group shifts and locks).
func modifierKeysym(s uint32) bool {
	return s >= 0xffe1 && s <= 0xffee || s == 0xff7e || s == 0xff7f || s >= 0xfe01 && s <= 0xfe13
}

// stroke is one key press and release, with shift held around it.
type stroke struct {
	kc    int
	shift bool
}

// remap is one spare keycode to map to syms (one keysym at both levels
// for a rune, the key's own to restore it) before the strokes.
type remap struct {
	kc   int
	syms []uint32
}

// typist remembers which spare keycodes it remapped to which keysyms,
// across messages: a remapped key keeps its keysym until the pool needs
// it for another (least recently used first) or the connection closes.
// Restoring it right after the key's release would race the app: a
// client reads the new mapping when it handles the MappingNotify, which
// may be after the restore, and would then see the key as NoSymbol.
type typist struct {
	pool  []int            // spare keycodes, least recently used first
	orig  map[int][]uint32 // spare keycode → its own keysyms, to restore
	bound map[int]uint32   // spare keycode → the keysym it was given
	init  bool
}

// plan turns text into strokes, given the keymap now and whether shift
// (or caps lock) is held now: a key found at level 0 is used only when
// neither is held, as either would change what it types; a remapped key
// has the keysym at every level, so modifiers do not matter. It returns
// the remappings to make first and the runes it cannot type (no keysym,
// or no spare key left).
func (t *typist) plan(text string, m keymap, shifted bool) (remaps []remap, strokes []stroke, dropped int) {
	if !t.init {
		t.pool, t.orig, t.bound, t.init = m.spare(), map[int][]uint32{}, map[int]uint32{}, true
		for _, kc := range t.pool {
			t.orig[kc] = m.row(kc)
		}
	}
	// A key the app remapped since is no longer ours to use.
	for kc, sym := range t.bound {
		if m.sym(kc, 0) != sym {
			delete(t.bound, kc)
			delete(t.orig, kc)
			t.pool = deleteInt(t.pool, kc)
		}
	}
	used := map[int]bool{} // spare keys this text already typed with
	for _, r := range text {
		sym, ok := RuneKeysym(r)
		if !ok {
			dropped++
			continue
		}
		kc, shift, found := m.find(sym)
		if found && (shift || !shifted) {
			strokes = append(strokes, stroke{kc: kc, shift: shift && !shifted})
			// A spare key typing its own keysym is this text's too.
			if _, spare := t.orig[kc]; spare {
				t.pool = append(deleteInt(t.pool, kc), kc)
				used[kc] = true
			}
			continue
		}
		if kc, ok := t.boundTo(sym); ok {
			t.pool = append(deleteInt(t.pool, kc), kc)
			used[kc] = true
			strokes = append(strokes, stroke{kc: kc})
			continue
		}
		// A spare the app has mapped since is no longer spare.
		for len(t.pool) > 0 && t.bound[t.pool[0]] == noSymbol && !slices.Equal(m.row(t.pool[0]), t.orig[t.pool[0]]) {
			delete(t.orig, t.pool[0])
			t.pool = t.pool[1:]
		}
		// The least recently used spare, unless this text typed with it
		// already: remapping it now would change what those strokes type.
		if len(t.pool) == 0 || used[t.pool[0]] {
			dropped++
			continue
		}
		kc = t.pool[0]
		t.pool = append(t.pool[1:], kc)
		t.bound[kc] = sym
		used[kc] = true
		remaps = append(remaps, remap{kc: kc, syms: []uint32{sym, sym}})
		strokes = append(strokes, stroke{kc: kc})
	}
	return remaps, strokes, dropped
}

func (t *typist) boundTo(sym uint32) (int, bool) {
	for kc, s := range t.bound {
		if s == sym {
			return kc, true
		}
	}
	return 0, false
}

// restore lists the remapped keys with their own keysyms, in keycode
// order, and forgets them.
func (t *typist) restore() []remap {
	var out []remap
	for kc := range t.bound {
		out = append(out, remap{kc: kc, syms: t.orig[kc]})
	}
	slices.SortFunc(out, func(a, b remap) int { return a.kc - b.kc })
	t.bound = map[int]uint32{}
	return out
}

func deleteInt(s []int, v int) []int {
	for i, x := range s {
		if x == v {
			return append(s[:i:i], s[i+1:]...)
		}
	}
	return s
}
