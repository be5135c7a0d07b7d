//go:build !linux

package uinput

import (
	"errors"
	"time"
)

// DefaultPath is where the uinput module's device node lives on Linux.
const DefaultPath = "/dev/uinput"

var (
	// ErrUnavailable: uinput is Linux only.
	ErrUnavailable = errors.New("uinput: unavailable")
	// ErrClosed: the device was closed.
	ErrClosed = errors.New("uinput: closed")
	// ErrRange: a button or axis index the standard mapping lacks.
	ErrRange = errors.New("uinput: no such button or axis")
)

// Gamepad is a virtual gamepad; there is none off Linux.
type Gamepad struct{}

// Open fails: uinput is Linux only.
func Open(path, name string) (*Gamepad, error) { return nil, ErrUnavailable }

// Button fails with ErrClosed.
func (g *Gamepad) Button(index int, pressed bool) error { return ErrClosed }

// Axis fails with ErrClosed.
func (g *Gamepad) Axis(index int, value float64) error { return ErrClosed }

// EventPath fails with ErrClosed.
func (g *Gamepad) EventPath(time.Duration) (string, error) { return "", ErrClosed }

// Close does nothing.
func (g *Gamepad) Close() error { return nil }
