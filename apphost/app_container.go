package apphost

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

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
	ctrX11Dir  = "/tmp/.X11-unix"
	ctrShare   = "/tmp/.streamstack"
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

// prepareContainer makes what app's container needs on the host and
// returns its spec: the container is then started by startContainer,
// gated, while the caller starts the display and the sound server, and
// the app runs once openContainer found them ready. Everything that
// crosses into the container is in one directory of the session's (share),
// made here before the display and sound server exist: the cookie, the
// sound server's socket directory, the display's socket (a hard link, made
// by openContainer) and the gate. The environment is made here, not
// inherited: nothing of the streamer's reaches the app.
func (a *Host) prepareContainer(cfg Config, app apps.App, cookie *x11.Cookie) (container.Spec, error) {
	dir, err := os.MkdirTemp(cfg.RuntimeDir, "streamstack-app-")
	if err != nil {
		return container.Spec{}, err
	}
	a.ctrDir = dir
	// The container's root user (the slot's first uid) must reach the
	// bundle and the shared directory; nobody may list them.
	if err := os.Chmod(dir, 0o711); err != nil {
		return container.Spec{}, err
	}
	uid, gid := a.hostUIDs(app)
	a.share = filepath.Join(dir, "share")
	for _, d := range []string{a.share, filepath.Join(a.share, "x11"), filepath.Join(a.share, "pulse")} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return container.Spec{}, err
		}
		if err := os.Chown(d, uid, gid); err != nil {
			return container.Spec{}, err
		}
	}
	if err := syscall.Mkfifo(filepath.Join(a.share, "gate"), 0o600); err != nil {
		return container.Spec{}, err
	}
	xauth := filepath.Join(a.share, "Xauthority")
	if err := os.WriteFile(xauth, cookie.Xauthority(), 0o400); err != nil {
		return container.Spec{}, err
	}
	for _, p := range []string{filepath.Join(a.share, "gate"), xauth} {
		if err := os.Chown(p, uid, gid); err != nil {
			return container.Spec{}, err
		}
	}
	env := []string{ctrPathEnv, ctrHomeEnv, ctrLangEnv, "USER=app", "DISPLAY=" + ctrDisplay,
		"XAUTHORITY=" + ctrShare + "/Xauthority"}
	if cfg.AppAudio {
		env = append(env, "PULSE_SERVER=unix:"+ctrShare+"/pulse/native")
	}
	binds := []container.Bind{
		{Source: a.share, Target: ctrShare},
		{Source: filepath.Join(a.share, "x11"), Target: ctrX11Dir},
	}
	for _, v := range app.Volumes {
		binds = append(binds, container.Bind{Source: v.Source, Target: v.Target, ReadOnly: v.ReadOnly})
	}
	l := app.Limits.WithDefaults()
	cuid := containerUID(app)
	return container.Spec{ID: ContainerID(cfg.SessionID), Args: app.Command, Env: append(env, app.Env...),
		UID: cuid, GID: cuid, Slot: a.slot, Root: app.Root, Binds: binds, Devices: app.Devices,
		Limits: container.Limits{CPU: l.CPU, MemoryBytes: int64(l.MemoryMB) << 20, Pids: int64(l.Pids),
			NoFile: uint64(l.NoFile), AddressSpace: uint64(l.AddressSpaceMB) << 20, NProc: uint64(l.NProc)},
		// The host's setpriv ties the app to the runtime process, itself
		// tied to us: a streamer killed outright leaves no app.
		Pdeathsig: app.Root == "",
		Gate:      ctrShare + "/gate",
	}, nil
}

// startContainer starts the container of spec (prepareContainer's),
// gated: for an app with network "outbound", its network first, filter
// included, for the container joins the network's namespace when the
// runtime makes it. The runtime is not even called before the filter is
// in place, so the app, which runs only once its gate opens, never runs
// without it. Start calls it beside the display's and the sound server's
// start: the network's start (pasta's, 0.2–0.5 s on a busy 2-core host)
// and the runtime's no longer come before them.
func (a *Host) startContainer(ctx context.Context, cfg Config, app apps.App, spec container.Spec) error {
	if app.Network == apps.NetworkOutbound {
		if err := a.startNetwork(ctx, &spec); err != nil {
			return err
		}
	}
	c, err := ctrRuntime(cfg).Start(ctx, spec, a.ctrDir, a.stderr)
	if err != nil {
		return err
	}
	a.ctr = c
	go func() { <-c.Done(); a.appDoneOnce.Do(func() { close(a.appDone) }) }()
	return nil
}

// pulseSocketDir is where the sound server makes its socket: in the
// container's shared directory, or its own ("") without a container.
func (a *Host) pulseSocketDir() string {
	if a.share == "" {
		return ""
	}
	return filepath.Join(a.share, "pulse")
}

// openContainer hands the display to the container and opens its gate
// without waiting for it: the container may still be starting, and the
// session's peer connection is made meanwhile. A container that never
// reaches its gate within AppStartTimeout is stopped, which ends the
// session as an exited app does, its error logged. The display's socket
// gets a second name in the shared directory: a hard link, which needs the
// session's runtime directory on the filesystem of /tmp/.X11-unix (the
// agent makes it under the system's temporary directory).
func (a *Host) openContainer(cfg Config) error {
	if err := os.Link(x11.SocketPath(a.xvfb.Number()), filepath.Join(a.share, "x11", "X0")); err != nil {
		return fmt.Errorf("display socket into the container (the runtime directory must be on /tmp's filesystem): %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.AppStartTimeout)
	a.wg.Go(func() {
		defer cancel()
		go func() {
			select {
			case <-a.closing:
				cancel()
			case <-ctx.Done():
			}
		}()
		if err := a.ctr.OpenGate(ctx, filepath.Join(a.share, "gate")); err != nil {
			select {
			case <-a.closing:
			default:
				a.log.Warn("the app's container did not start", "err", err, "stderr", a.stderr.String())
				a.ctr.Stop(0)
			}
		}
	})
	return nil
}

// startNetwork gives the container an outbound-only network: a user-mode
// stack (pasta) run as the slot's last uid, which the app never runs as,
// and a filter on that uid refusing the host, its loopback, private,
// link-local and metadata addresses (container.StartOutbound). DNS goes
// to the network's own resolver, named in a resolv.conf bound over the
// container's.
func (a *Host) startNetwork(ctx context.Context, spec *container.Spec) error {
	uid := a.slot.HostUID(a.slot.Size - 1)
	n, err := container.StartOutbound(ctx, container.NetworkConfig{UID: uid, GID: uid, DNS: true})
	if err != nil {
		return fmt.Errorf("outbound network: %w", err)
	}
	a.net = n
	spec.NetNS = n.NSPath()
	if ns := n.Nameserver(); ns.IsValid() {
		conf := filepath.Join(a.ctrDir, "resolv.conf")
		if err := os.WriteFile(conf, []byte("nameserver "+ns.String()+"\n"), 0o644); err != nil {
			return err
		}
		if fi, err := os.Lstat("/etc/resolv.conf"); err == nil && fi.Mode().IsRegular() {
			spec.Binds = append(spec.Binds, container.Bind{Source: conf, Target: "/etc/resolv.conf", ReadOnly: true})
		}
	}
	return nil
}

// stopContainer ends the app and removes its container, its network and
// its bundle.
func (a *Host) stopContainer() {
	if a.ctr != nil {
		a.ctr.Stop(a.stopT)
	}
	if a.net != nil {
		if err := a.net.Close(); err != nil {
			a.log.Warn("close the app's network", "err", err)
		}
	}
	if a.ctrDir != "" {
		_ = os.RemoveAll(a.ctrDir)
	}
}

// hostUIDs are the host uid and gid the app's user maps to.
func (a *Host) hostUIDs(app apps.App) (int, int) {
	u := int(a.slot.HostUID(containerUID(app)))
	return u, u
}
