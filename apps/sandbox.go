package apps

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
)

// Bounds of a catalogue's limits: a typo must not hand one app the host.
const (
	maxCPU      = 64
	maxMemoryMB = 1 << 20
	maxPids     = 1 << 16
	minMemoryMB = 16
)

// validateSandbox checks the container fields: absolute, clean paths, no
// volume onto a directory the container needs for itself, devices only
// under /dev.
func (a App) validateSandbox() error {
	if a.Kind != KindX11 && (a.Root != "" || a.Network != "" || len(a.Devices) > 0 || len(a.Volumes) > 0) {
		return errors.New("root, network, devices and volumes are for x11 apps")
	}
	if a.Root != "" && !cleanAbs(a.Root) {
		return fmt.Errorf("root %q must be a clean absolute path", a.Root)
	}
	switch a.Network {
	case "", NetworkNone, NetworkOutbound:
	default:
		return fmt.Errorf("network must be %q or %q, got %q", NetworkNone, NetworkOutbound, a.Network)
	}
	for _, d := range a.Devices {
		if !cleanAbs(d) || !strings.HasPrefix(d, "/dev/") {
			return fmt.Errorf("device %q must be a clean path under /dev", d)
		}
	}
	for _, v := range a.Volumes {
		if !cleanAbs(v.Source) || !cleanAbs(v.Target) || v.Source == "/" {
			return fmt.Errorf("volume %q:%q must be clean absolute paths, not the host's /", v.Source, v.Target)
		}
		for _, reserved := range reservedTargets {
			if v.Target == reserved || strings.HasPrefix(reserved, v.Target+"/") ||
				strings.HasPrefix(v.Target, reserved+"/") && reserved != "/tmp" {
				return fmt.Errorf("volume target %q overlaps %s, which the container needs", v.Target, reserved)
			}
		}
	}
	return nil
}

// reservedTargets are what every container mounts for itself; a volume
// may go under /tmp (a private tmpfs) but not over it or the others.
var reservedTargets = []string{"/", "/proc", "/sys", "/dev", "/tmp", "/run/streamstack", "/usr", "/etc"}

func cleanAbs(p string) bool { return filepath.IsAbs(p) && filepath.Clean(p) == p }

func (a App) clone() App {
	a.Command = slices.Clone(a.Command)
	a.Env = slices.Clone(a.Env)
	a.Devices = slices.Clone(a.Devices)
	a.Volumes = slices.Clone(a.Volumes)
	return a
}
