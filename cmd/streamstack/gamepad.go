package main

import "flag"

// addGamepadFlag registers --gamepad-uinput. The agent and serve only
// pass it down to their streamers (passDownEnv), which use it.
func addGamepadFlag(fs *flag.FlagSet, on *bool) {
	fs.BoolVar(on, "gamepad-uinput", *on, "give X11 apps the client's gamepads as virtual pads made through /dev/uinput (needs write access to it); off, or where it cannot be opened, the client gets a stream::unsupported message")
}
