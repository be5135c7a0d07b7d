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

// Limits bound an X11 app. CPU, MemoryMB and Pids are its container's
// cgroup limits (zero: DefaultLimits'); the agent counts CPU and MemoryMB
// against the host beside encoder units. The rlimits apply inside the
// container too, and are all an app gets with --app-isolation=none (set
// by prlimit(1) just before the exec); zero leaves one as inherited.
type Limits struct {
	// CPU is the app's share of the host in cores (1.5: one and a half),
	// a cgroup CPU quota.
	CPU float64 `json:"cpu,omitempty"`
	// MemoryMB is the container's memory limit, swap included, in MiB:
	// above it the kernel's OOM killer ends the app, and the session.
	MemoryMB int `json:"memory_mb,omitempty"`
	// Pids is the most processes and threads the container may hold: a
	// fork bomb meets it, and the session ends.
	Pids int `json:"pids,omitempty"`
	// AddressSpaceMB is RLIMIT_AS in MiB.
	AddressSpaceMB int `json:"address_space_mb,omitempty"`
	// NoFile is RLIMIT_NOFILE, open files.
	NoFile int `json:"nofile,omitempty"`
	// NProc is RLIMIT_NPROC: processes of the app's user. Counts every
	// process of that user, so it only means something with User set.
	NProc int `json:"nproc,omitempty"`
}

// WithDefaults fills the cgroup limits l leaves zero from DefaultLimits:
// a container always has all three.
func (l Limits) WithDefaults() Limits {
	d := DefaultLimits()
	if l.CPU == 0 {
		l.CPU = d.CPU
	}
	if l.MemoryMB == 0 {
		l.MemoryMB = d.MemoryMB
	}
	if l.Pids == 0 {
		l.Pids = d.Pids
	}
	return l
}

// Network is what an X11 app's container may reach.
const (
	// NetworkNone: a network namespace with only its own loopback.
	NetworkNone = "none"
	// NetworkOutbound: outbound connections through a user-mode network
	// stack (pasta) that refuses the host's loopback, private and
	// link-local ranges (cloud metadata at 169.254.169.254 among them).
	NetworkOutbound = "outbound"
)

// Volume is a host directory an app may write to, bound into its
// container.
type Volume struct {
	// Source is the host directory (absolute).
	Source string `json:"source"`
	// Target is where the app sees it (absolute).
	Target string `json:"target"`
	// ReadOnly binds it read-only.
	ReadOnly bool `json:"read_only,omitempty"`
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
	// Limits are the app's resource limits.
	Limits Limits `json:"limits"`
	// Root is the container's root filesystem, a directory such as an
	// unpacked OCI image; empty: the host's system directories (/usr,
	// /etc and the links into /usr), read-only.
	Root string `json:"root,omitempty"`
	// Network is NetworkNone (empty) or NetworkOutbound.
	Network string `json:"network,omitempty"`
	// Devices are host device nodes passed into the container, such as a
	// GPU's render node (/dev/dri/renderD128).
	Devices []string `json:"devices,omitempty"`
	// Volumes are host directories bound in; nothing else of the host is
	// writable.
	Volumes []Volume `json:"volumes,omitempty"`
	// Env is extra environment (KEY=value) for the app.
	Env []string `json:"env,omitempty"`
	// Warm is how many containers of this app each agent keeps started
	// (display, sound server and app, at the app's Screen), unassigned, for
	// sessions of that screen to take without waiting for a start; each
	// holds its limits of the agent's app budget while it waits. x11
	// only, at most MaxWarm.
	Warm int `json:"warm,omitempty"`
}

// MaxWarm bounds App.Warm: a warm container holds memory and a uid slot
// while nobody uses it.
const MaxWarm = 8

// Catalog is a validated set of apps, in a stable order.
type Catalog struct {
	apps []App
}

// DefaultLimits are the built-in X11 apps' limits, and the cgroup limits
// of an app that names none: generous for a terminal, a backstop against
// a runaway.
func DefaultLimits() Limits {
	return Limits{CPU: 1, MemoryMB: 1024, Pids: 512, AddressSpaceMB: 4096, NoFile: 1024}
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
		apps[i] = a.clone()
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
		if a.Warm != 0 {
			return bad("a pattern app starts nothing to keep warm")
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
	if a.Warm < 0 || a.Warm > MaxWarm {
		return bad("warm must be 0 to %d, got %d", MaxWarm, a.Warm)
	}
	l := a.Limits
	if l.AddressSpaceMB < 0 || l.NoFile < 0 || l.NProc < 0 || l.CPU < 0 || l.MemoryMB < 0 || l.Pids < 0 {
		return bad("negative limit")
	}
	if l.CPU > maxCPU || l.MemoryMB > maxMemoryMB || l.Pids > maxPids {
		return bad("limits above %v cpu, %d MiB, %d pids", maxCPU, maxMemoryMB, maxPids)
	}
	if l.MemoryMB > 0 && l.MemoryMB < minMemoryMB {
		return bad("memory_mb under %d: too little for an X11 client", minMemoryMB)
	}
	if err := a.validateSandbox(); err != nil {
		return bad("%v", err)
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
			return a.clone(), nil
		}
	}
	return App{}, fmt.Errorf("%w %q", ErrUnknown, name)
}

// List returns every app, in the catalogue's order.
func (c *Catalog) List() []App {
	out := make([]App, len(c.apps))
	for i, a := range c.apps {
		out[i] = a.clone()
	}
	return out
}
