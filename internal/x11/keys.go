package x11

// Android key codes (android.view.KeyEvent), what the control channel's
// input::key carries, mapped to X keysyms. Letters map to the lower-case
// keysym: the case comes from the shift key the client sends too.
var androidKeysyms = map[int]uint32{
	4: 0xff1b, // BACK → Escape
	7: '0', 8: '1', 9: '2', 10: '3', 11: '4', 12: '5', 13: '6', 14: '7', 15: '8', 16: '9',
	19: 0xff52, // DPAD_UP → Up
	20: 0xff54, // DPAD_DOWN → Down
	21: 0xff51, // DPAD_LEFT → Left
	22: 0xff53, // DPAD_RIGHT → Right
	55: ',', 56: '.',
	57: 0xffe9, // ALT_LEFT
	58: 0xffea, // ALT_RIGHT
	59: 0xffe1, // SHIFT_LEFT
	60: 0xffe2, // SHIFT_RIGHT
	61: 0xff09, // TAB
	62: ' ',    // SPACE
	66: 0xff0d, // ENTER → Return
	67: 0xff08, // DEL → BackSpace
	68: '`', 69: '-', 70: '=', 71: '[', 72: ']', 73: '\\', 74: ';', 75: '\'', 76: '/',
	92:  0xff55, // PAGE_UP → Prior
	93:  0xff56, // PAGE_DOWN → Next
	111: 0xff1b, // ESCAPE
	112: 0xffff, // FORWARD_DEL → Delete
	113: 0xffe3, // CTRL_LEFT
	114: 0xffe4, // CTRL_RIGHT
	115: 0xffe5, // CAPS_LOCK
	117: 0xffeb, // META_LEFT → Super_L
	118: 0xffec, // META_RIGHT → Super_R
	122: 0xff50, // MOVE_HOME → Home
	123: 0xff57, // MOVE_END → End
	124: 0xff63, // INSERT
	160: 0xff8d, // NUMPAD_ENTER → KP_Enter
}

func init() {
	for c := 29; c <= 54; c++ { // KEYCODE_A..KEYCODE_Z
		androidKeysyms[c] = uint32('a' + c - 29)
	}
	for c := 131; c <= 142; c++ { // KEYCODE_F1..F12
		androidKeysyms[c] = uint32(0xffbe + c - 131)
	}
}

// Keysym maps an Android key code to an X keysym.
func Keysym(androidCode int) (uint32, bool) {
	k, ok := androidKeysyms[androidCode]
	return k, ok
}

// Buttons: the control channel numbers mouse buttons as the web SDK does
// (1 left, 2 right, 3 middle, 4 back, 5 forward); X numbers them 1 left,
// 2 middle, 3 right, 8 back, 9 forward.
var xButtons = map[int]int{1: 1, 2: 3, 3: 2, 4: 8, 5: 9}

// Button maps a control-channel mouse button to an X button.
func Button(b int) (int, bool) {
	x, ok := xButtons[b]
	return x, ok
}
