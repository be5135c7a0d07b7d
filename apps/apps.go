package apps

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"unicode"

	"github.com/streamstack/streamstack/session"
)

// Kinds of application.
const (
	// KindPattern streams the test pattern; it runs nothing.
	KindPattern = "pattern"
	// KindX11 runs Command in a private Xvfb display and streams it.
	KindX11 = "x11"
)

var (
	// ErrInvalid: a catalogue or an app in it is malformed; the message
	// names the app and field.
	ErrInvalid = errors.New("apps: invalid catalogue")
	// ErrUnknown: no app of that name.
	ErrUnknown = errors.New("unknown application")
)

// Limits are resource limits set on an X11 app's process with setrlimit
// (prlimit(1) sets them just before the exec, so they apply to it and what
// it starts; util-linux provides it). Zero leaves a limit as inherited.
type Limits struct {
	// AddressSpaceMB is RLIMIT_AS in MiB.
	AddressSpaceMB int `json:"address_space_mb,omitempty"`
	// NoFile is RLIMIT_NOFILE, open files.
	NoFile int `json:"nofile,omitempty"`
	// NProc is RLIMIT_NPROC: processes of the app's user. Counts every
	// process of that user, so it only means something with User set.
	NProc int `json:"nproc,omitempty"`
}

// App is one entry of the catalogue.
type App struct {
	// Name is what a session's app field names.
	Name string `json:"name"`
	// Description is shown in listings.
	Description string `json:"description,omitempty"`
	// Kind is KindPattern or KindX11.
	Kind string `json:"kind"`
	// Command is the program and its arguments (x11 only), run with
	// DISPLAY set to the session's display.
	Command []string `json:"command,omitempty"`
	// Screen is the app's default screen: fields a create request leaves
	// zero take these before the gateway's defaults.
	Screen session.Screen `json:"screen"`
	// User runs the app as this unprivileged user (name or uid) when the
	// streamer runs as root; empty runs it as the streamer's AppUser
	// (nobody) then, and as the streamer's user otherwise.
	User string `json:"user,omitempty"`
	// Limits are the app process's resource limits.
	Limits Limits `json:"limits"`
	// Env is extra environment (KEY=value) for the app.
	Env []string `json:"env,omitempty"`
}

// Catalog is a validated set of apps, in a stable order.
type Catalog struct {
	apps []App
}

// DefaultLimits are the built-in X11 apps' limits: generous for a
// terminal, a backstop against a runaway.
func DefaultLimits() Limits {
	return Limits{AddressSpaceMB: 4096, NoFile: 1024}
}

// Default is the built-in catalogue: the test pattern and xterm.
func Default() *Catalog {
	c, err := New([]App{
		{Name: "test-pattern", Description: "moving test pattern with a timestamp strip; shows the pointer", Kind: KindPattern},
		{Name: "xterm", Description: "a terminal (xterm) in a private X display", Kind: KindX11,
			Command: []string{"xterm", "-maximized", "-fa", "Monospace", "-fs", "14"},
			Screen:  session.Screen{Width: 1280, Height: 720, FPS: 30},
			Limits:  DefaultLimits()},
	})
	if err != nil {
		panic(err) // the built-ins are constants; a test checks them
	}
	return c
}

// New validates apps into a catalogue.
func New(apps []App) (*Catalog, error) {
	seen := map[string]bool{}
	for i, a := range apps {
		if err := a.Validate(); err != nil {
			return nil, err
		}
		if seen[a.Name] {
			return nil, fmt.Errorf("%w: app %q listed twice", ErrInvalid, a.Name)
		}
		seen[a.Name] = true
		apps[i].Command = slices.Clone(a.Command)
	}
	if len(apps) == 0 {
		return nil, fmt.Errorf("%w: no apps", ErrInvalid)
	}
	return &Catalog{apps: slices.Clone(apps)}, nil
}

// file is the JSON form of a catalogue file.
type file struct {
	Apps []App `json:"apps"`
}

// Parse reads a catalogue from JSON: {"apps": [{...}, ...]}. Unknown
// fields are errors, so a typo does not silently drop a limit.
func Parse(b []byte) (*Catalog, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return New(f.Apps)
}

// Load reads a catalogue file; an empty path gives Default.
func Load(path string) (*Catalog, error) {
	if path == "" {
		return Default(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("apps: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// Validate reports the first malformed field.
func (a App) Validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: app %q: %s", ErrInvalid, a.Name, fmt.Sprintf(format, args...))
	}
	if a.Name == "" || len(a.Name) > 64 || strings.IndexFunc(a.Name, func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '-' || r == '_' || r == '.')
	}) >= 0 {
		return bad("name must be 1-64 letters, digits, '-', '_' or '.'")
	}
	switch a.Kind {
	case KindPattern:
		if len(a.Command) > 0 {
			return bad("a pattern app runs no command")
		}
	case KindX11:
		if len(a.Command) == 0 || a.Command[0] == "" {
			return bad("an x11 app needs a command")
		}
	default:
		return bad("kind must be %q or %q, got %q", KindPattern, KindX11, a.Kind)
	}
	s := a.Screen
	if s.Width < 0 || s.Height < 0 || s.FPS < 0 || s.Density < 0 || s.Width%2 != 0 || s.Height%2 != 0 {
		return bad("screen must be even, non-negative sizes, got %dx%d@%d", s.Width, s.Height, s.FPS)
	}
	if a.Limits.AddressSpaceMB < 0 || a.Limits.NoFile < 0 || a.Limits.NProc < 0 {
		return bad("negative limit")
	}
	for _, e := range a.Env {
		if k, _, ok := strings.Cut(e, "="); !ok || k == "" {
			return bad("env entry %q is not KEY=value", e)
		}
	}
	return nil
}

// Lookup returns the app called name.
func (c *Catalog) Lookup(name string) (App, error) {
	for _, a := range c.apps {
		if a.Name == name {
			a.Command = slices.Clone(a.Command)
			a.Env = slices.Clone(a.Env)
			return a, nil
		}
	}
	return App{}, fmt.Errorf("%w %q", ErrUnknown, name)
}

// List returns every app, in the catalogue's order.
func (c *Catalog) List() []App {
	out := make([]App, len(c.apps))
	for i, a := range c.apps {
		a.Command = slices.Clone(a.Command)
		a.Env = slices.Clone(a.Env)
		out[i] = a
	}
	return out
}
