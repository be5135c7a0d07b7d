// Package uinput makes virtual gamepads through the Linux uinput module
// (/dev/uinput): the kernel then shows each as an ordinary evdev device
// (/dev/input/eventN, a js device too) that SDL, Wine, browsers and games
// find the way they find a USB pad. The streamer feeds it the client's
// gamepad messages, which X11 has no way to carry.
//
// Opening /dev/uinput needs write access to it: root, or a udev rule
// giving a group access (the "input" group on most distributions), and
// the module loaded (modprobe uinput). In a container the device must be
// passed in. Where it cannot be opened, Open fails with ErrUnavailable
// and the caller tells the client gamepads are unsupported.
//
// Buttons and axes are numbered as the W3C "standard" gamepad mapping
// numbers them (what the browser's Gamepad API reports and the SDK
// sends): see ButtonCodes and Axes.
package uinput
