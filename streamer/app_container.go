package streamer

import (
	"context"
	"fmt"
	"os"
	"strconv"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/internal/container"
	"github.com/streamstack/streamstack/internal/x11"
)

// Isolation modes of x11 apps (Config.AppIsolation).
const (
	// IsolationContainer runs each app in an OCI container of its own.
	IsolationContainer = "container"
	// IsolationNone runs apps as processes beside the streamer: unsafe
	// where sessions belong to different people.
	IsolationNone = "none"
)

// ReasonAppLimits ends a session whose app hit its container's memory or
// process limit.
const ReasonAppLimits = "app exceeded its limits"

// appUID is the uid an app runs as inside its container unless its
// catalogue entry names a number: not root, even there.
const appUID = 1000

// Where a container finds what crosses into it: all under its private
// /tmp, which exists in any root.
const (
	ctrDisplay = ":0"
	ctrXSocket = "/tmp/.X11-unix/X0"
	ctrXauth   = "/tmp/.streamstack/Xauthority"
	ctrPulse   = "/tmp/.streamstack/pulse"
	ctrPathEnv = "PATH=/usr/local/bin:/usr/bin:/bin"
	ctrHomeEnv = "HOME=/tmp"
	ctrLangEnv = "LANG=C.UTF-8"
)

// slots are the uid ranges of cfg.
func slots(cfg Config) container.Slots {
	s := container.DefaultSlots()
	if cfg.AppUIDBase != 0 {
		s.Base = cfg.AppUIDBase
	}
	if cfg.AppUIDSlots != 0 {
		s.Count = cfg.AppUIDSlots
	}
	return s
}

// ctrRuntime is cfg's container runtime.
func ctrRuntime(cfg Config) container.Runtime {
	return container.Runtime{Binary: cfg.ContainerRuntime}
}

// ContainerID is the container of a session's app, for a supervisor that
// cleans up after a streamer that died.
func ContainerID(sessionID string) string { return container.ForSession(sessionID) }

// DeleteContainer removes what is left of a session's app container
// (nothing, when its streamer ended normally): the agent calls it after a
// streamer exits, however it exited.
func DeleteContainer(ctx context.Context, cfg Config, sessionID string) error {
	return ctrRuntime(cfg).Delete(ctx, ContainerID(sessionID))
}

// containerUID is the uid the app runs as inside: the catalogue's user
// when it is a number, else appUID.
func containerUID(app apps.App) uint32 {
	if n, err := strconv.ParseUint(app.User, 10, 32); err == nil && n < 65536 {
		return uint32(n)
	}
	return appUID
}

// startContainer runs app in its container: the session's display socket,
// its cookie and its sound server's socket are the only host paths it
// gets besides the catalogue's volumes and devices. The environment is
// made here, not inherited: nothing of the streamer's reaches the app.
func (a *x11App) startContainer(ctx context.Context, cfg Config, app apps.App) error {
	dir, err := os.MkdirTemp(cfg.RuntimeDir, "streamstack-app-")
	if err != nil {
		return err
	}
	a.ctrDir = dir
	// The container's root user (the slot's first uid) must reach the
	// bundle; nobody may list it.
	if err := os.Chmod(dir, 0o711); err != nil {
		return err
	}
	env := []string{ctrPathEnv, ctrHomeEnv, ctrLangEnv, "USER=app", "DISPLAY=" + ctrDisplay, "XAUTHORITY=" + ctrXauth}
	binds := []container.Bind{
		{Source: x11.SocketPath(a.xvfb.Number()), Target: ctrXSocket},
		{Source: a.xvfb.AuthFile(), Target: ctrXauth, ReadOnly: true},
	}
	if a.audio != nil {
		env = append(env, "PULSE_SERVER=unix:"+ctrPulse)
		binds = append(binds, container.Bind{Source: a.audio.server.Socket, Target: ctrPulse})
	}
	for _, v := range app.Volumes {
		binds = append(binds, container.Bind{Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly})
	}
	l := app.Limits.WithDefaults()
	uid := containerUID(app)
	spec := container.Spec{ID: ContainerID(cfg.SessionID), Args: app.Command, Env: append(env, app.Env...),
		UID: uid, GID: uid, Slot: a.slot, Root: app.Root, Binds: binds, Devices: app.Devices,
		Limits: container.Limits{CPU: l.CPU, MemoryBytes: int64(l.MemoryMB) << 20, Pids: int64(l.Pids),
			NoFile: uint64(l.NoFile), AddressSpace: uint64(l.AddressSpaceMB) << 20, NProc: uint64(l.NProc)},
		// The host's setpriv ties the app to the runtime process, itself
		// tied to us: a streamer killed outright leaves no app.
		Pdeathsig: app.Root == "",
	}
	if app.Network == apps.NetworkOutbound {
		return fmt.Errorf("network %q is not available on this streamer yet; use %q", apps.NetworkOutbound, apps.NetworkNone)
	}
	c, err := ctrRuntime(cfg).Start(ctx, spec, dir, a.stderr)
	if err != nil {
		return err
	}
	a.ctr = c
	go func() { <-c.Done(); close(a.appDone) }()
	return nil
}

// stopContainer ends the app and removes its container and bundle.
func (a *x11App) stopContainer() {
	if a.ctr != nil {
		a.ctr.Stop(a.stopT)
	}
	if a.ctrDir != "" {
		_ = os.RemoveAll(a.ctrDir)
	}
}

// hostUIDs are the host uid and gid the app's user maps to.
func (a *x11App) hostUIDs(app apps.App) (int, int) {
	u := int(a.slot.HostUID(containerUID(app)))
	return u, u
}
