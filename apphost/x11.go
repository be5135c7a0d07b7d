package apphost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/internal/container"
	"github.com/streamstack/streamstack/internal/tailbuf"
	"github.com/streamstack/streamstack/internal/x11"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// ReasonAppExited ends a session whose application (or its display)
// exited on its own.
const ReasonAppExited = "app exited"

// Host is one X11 application of a session: its private Xvfb, the app
// inside it, the capture that is the session's picture (Draw) and the
// XTest input that takes the client's (HandleInput).
//
// Process tree: Xvfb is the streamer's child in the streamer's process
// group (the agent signals that group on stop); the app is the streamer's
// child in a process group of its own (a signal meant for it reaches what
// it started, and nothing else). Both have PR_SET_PDEATHSIG SIGKILL, so
// neither outlives a streamer that is killed outright.
type Host struct {
	log  *slog.Logger
	xvfb *x11.Xvfb
	cmd  *exec.Cmd
	// appDone is closed when the app has been reaped; exited when the app
	// or the display has gone.
	appDone chan struct{}
	exited  chan struct{}
	stopT   time.Duration
	stderr  *tailbuf.Buffer
	wg      sync.WaitGroup
	closing chan struct{}

	cap *x11.Capturer
	in  *x11.Input
	// screen resizes the display (resize.go); nil where it cannot.
	screen *x11.Screen
	// clip is the app's clipboard (clipboard.go).
	clip hostClipboard
	// audio is the app's sound server and its capture; nil without
	// Config.AppAudio.
	audio *appAudio

	pads *gamepads // uinput, where the host allows it

	// With IsolationContainer: the app's uid range, its container and
	// the container's bundle directory.
	slot   *container.Slot
	ctr    *container.Container
	ctrDir string
	net    *container.Network // with network "outbound"
	share  string             // ctrDir/share: what the container sees at ctrShare

	appDoneOnce sync.Once

	capFailed bool // owned by the video goroutine
	mu        sync.Mutex
	touch     int // the touch point acting as the pointer, -1 none
}

// maxAppStderr bounds what of an app's stderr is kept for the log.
const maxAppStderr = 4096

// Start starts Xvfb at w×h×24, the app inside it, and connects the
// capture and input. On error nothing is left running.
//
// What can start side by side does: Xvfb (the longest, it needs only the
// cookie) at once, then the sound server and, in a container, the app's
// container, gated (its network first where it has one), so that the
// runtime's start-up runs while the display and the sound server start;
// the gate opens once the display is up.
func Start(ctx context.Context, cfg Config, app apps.App, w, h int, log *slog.Logger) (_ *Host, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log = log.With("app", app.Name)
	isolated := cfg.AppIsolation != IsolationNone
	if !isolated && app.User == "" && os.Geteuid() == 0 {
		app.User = cfg.AppUser
	}
	a := &Host{log: log, appDone: make(chan struct{}), exited: make(chan struct{}),
		stopT: cfg.AppStopTimeout, stderr: tailbuf.New(maxAppStderr), closing: make(chan struct{}),
		touch: -1, pads: newGamepads(cfg.GamepadUinput, cfg.SessionID, log)}
	// starting are the starts running side by side: Close must not run
	// before they have set what they started.
	var starting sync.WaitGroup
	defer func() {
		if err != nil {
			starting.Wait()
			a.appDoneOnce.Do(func() { close(a.appDone) })
			a.Close()
		}
	}()
	// In a container the cookie goes into the shared directory before
	// Xvfb starts; as a process, Xvfb makes its own and its file.
	var cookie *x11.Cookie
	if isolated {
		if cookie, err = x11.NewCookie(); err != nil {
			return nil, err
		}
	}
	var xvErr, auErr, ctrErr error
	starting.Go(func() {
		fbW, fbH := framebuffer(cfg, w, h)
		a.xvfb, xvErr = x11.StartXvfb(ctx, x11.XvfbConfig{Command: cfg.XvfbCommand, Width: fbW, Height: fbH, Depth: 24,
			StartTimeout: cfg.AppStartTimeout, StopTimeout: cfg.AppStopTimeout, Dir: cfg.RuntimeDir, Cookie: cookie})
	})
	// The app's user on the host, for its sound server and its cookie.
	uid, gid := -1, -1
	switch {
	case isolated:
		if a.slot, err = slots(cfg).Acquire(); err != nil {
			return nil, err
		}
		uid, gid = a.hostUIDs(app)
		spec, err := a.prepareContainer(cfg, app, cookie)
		if err != nil {
			return nil, fmt.Errorf("apphost: start %s: %w", app.Name, err)
		}
		starting.Go(func() {
			if err := a.startContainer(ctx, cfg, app, spec); err != nil {
				ctrErr = fmt.Errorf("apphost: start %s: %w", app.Name, err)
			}
		})
	case app.User != "":
		u, err := lookupUser(app.User)
		if err != nil {
			return nil, err
		}
		uid, _ = strconv.Atoi(u.Uid)
		gid, _ = strconv.Atoi(u.Gid)
	}
	if cfg.AppAudio {
		starting.Go(func() { a.audio, auErr = startAppAudio(ctx, cfg, uid, gid, a.pulseSocketDir(), log) })
	}
	starting.Wait()
	if err = errors.Join(xvErr, auErr, ctrErr); err != nil {
		return nil, err
	}
	xv := a.xvfb
	if err = a.openScreen(cfg, w, h); err != nil {
		return nil, err
	}
	if a.cap, err = x11.NewCapturer(xv.Display, xv.Cookie()); err != nil {
		return nil, err
	}
	if a.in, err = x11.NewInput(xv.Display, xv.Cookie()); err != nil {
		return nil, err
	}
	a.startClipboard(xv.Display, xv.Cookie(), cfg.ClipboardMaxBytes)
	if isolated {
		err = a.openContainer(cfg)
	} else {
		err = a.startApp(app)
	}
	if err != nil {
		return nil, fmt.Errorf("apphost: start %s: %w", app.Name, err)
	}
	_, appPid := a.Pids()
	log.Info("app started", "display", xv.Display, "xvfb_pid", xv.Pid(), "app_pid", appPid, "isolation", cfg.AppIsolation)
	var soundDone <-chan struct{} // nil without app audio: never ready
	if a.audio != nil {
		soundDone = a.audio.server.Done()
	}
	a.wg.Go(func() {
		select {
		case <-a.appDone:
			a.log.Warn("app exited", "err", a.appErr(), "reason", a.ExitReason(), "stderr", a.stderr.String())
		case <-xv.Done():
			a.log.Warn("display server exited")
		case <-soundDone:
			// Like its display: the app's environment is gone, and a
			// session that went silent for good would look like a bug.
			a.log.Warn("sound server exited", "log", a.audio.server.Log())
		case <-a.closing:
			return
		}
		close(a.exited)
	})
	return a, nil
}

// appEnv is the app's environment: the streamer's without its own
// STREAMSTACK_* settings (the NATS URL may carry credentials), DISPLAY,
// XAUTHORITY (the display's cookie file), the user's HOME and USER when it
// runs as another user, and app.Env.
func appEnv(app apps.App, display, xauth string, u *user.User) []string {
	env := slices.DeleteFunc(os.Environ(), func(e string) bool {
		return strings.HasPrefix(e, "STREAMSTACK_") || strings.HasPrefix(e, "DISPLAY=") ||
			strings.HasPrefix(e, "XAUTHORITY=") || strings.HasPrefix(e, "WAYLAND_DISPLAY=")
	})
	env = append(env, "DISPLAY="+display)
	if xauth != "" {
		env = append(env, "XAUTHORITY="+xauth)
	}
	if u != nil {
		env = append(env, "HOME="+u.HomeDir, "USER="+u.Username, "LOGNAME="+u.Username)
	}
	return append(env, app.Env...)
}

func (a *Host) startApp(app apps.App) error {
	argv, err := limitedCommand(app.Command, app.Limits)
	if err != nil {
		return err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	attr := &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var u *user.User
	if app.User != "" {
		if u, err = lookupUser(app.User); err != nil {
			return err
		}
		uid, _ := strconv.ParseUint(u.Uid, 10, 32)
		gid, _ := strconv.ParseUint(u.Gid, 10, 32)
		attr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := a.xvfb.ChownAuth(int(uid), int(gid)); err != nil {
			return err
		}
		cmd.Dir = "/" // not the streamer's directory, which the user may not read
		if fi, err := os.Stat(u.HomeDir); err == nil && fi.IsDir() {
			cmd.Dir = u.HomeDir
		}
	}
	cmd.SysProcAttr = attr
	cmd.Env = appEnv(app, a.xvfb.Display, a.xvfb.AuthFile(), u)
	if a.audio != nil {
		cmd.Env = append(cmd.Env, a.audio.Env())
	}
	cmd.Stdout, cmd.Stderr = a.stderr, a.stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	a.cmd = cmd
	go func() { _ = cmd.Wait(); a.appDoneOnce.Do(func() { close(a.appDone) }) }()
	return nil
}

func lookupUser(name string) (*user.User, error) {
	if _, err := strconv.Atoi(name); err == nil {
		return user.LookupId(name)
	}
	return user.Lookup(name)
}

// limitedCommand wraps command in prlimit(1) (util-linux) when the app
// has limits: Go's exec cannot call setrlimit between fork and exec, and
// prlimit(2) on the started child races with it and is refused for a child
// of another user without CAP_SYS_RESOURCE. prlimit sets the limits on
// itself, as the app's user, then execs the app.
func limitedCommand(command []string, l apps.Limits) ([]string, error) {
	var opts []string
	if l.AddressSpaceMB > 0 {
		opts = append(opts, fmt.Sprintf("--as=%d", uint64(l.AddressSpaceMB)<<20))
	}
	if l.NoFile > 0 {
		opts = append(opts, fmt.Sprintf("--nofile=%d", l.NoFile))
	}
	if l.NProc > 0 {
		opts = append(opts, fmt.Sprintf("--nproc=%d", l.NProc))
	}
	if len(opts) == 0 {
		return command, nil
	}
	bin, err := exec.LookPath("prlimit")
	if err != nil {
		return nil, fmt.Errorf("resource limits need prlimit (util-linux): %w", err)
	}
	return append(append(append([]string{bin}, opts...), "--"), command...), nil
}

// AudioFrames delivers the app's sound in 20 ms stereo frames; nil when
// the session has no app audio.
func (a *Host) AudioFrames() <-chan []int16 {
	if a.audio == nil {
		return nil
	}
	return a.audio.Frames()
}

// WaitDrawn waits until the app has drawn on its display (the screen is
// no longer one colour, as an empty display is), at most until ctx ends:
// an app started ahead of its session (a warm pool's) is ready once its
// window shows, so the session's first frame shows it. It reports whether
// it saw the app's picture.
func (a *Host) WaitDrawn(ctx context.Context) bool {
	img, err := yuv.NewImage(a.cap.Size())
	if err != nil {
		return false
	}
	t := time.NewTicker(drawnPoll)
	defer t.Stop()
	for {
		if err := a.cap.Capture(img); err != nil {
			return false
		}
		if !uniform(img.Y) {
			return true
		}
		select {
		case <-ctx.Done():
			return false
		case <-a.exited:
			return false
		case <-t.C:
		}
	}
}

// uniform reports whether every sample of p is the same.
func uniform(p []byte) bool {
	for _, v := range p {
		if v != p[0] {
			return false
		}
	}
	return true
}

// drawnPoll is how often WaitDrawn looks at the display: a capture of it
// each time, until the app has drawn.
const drawnPoll = 10 * time.Millisecond

// Exited is closed when the app or its display exited on its own.
func (a *Host) Exited() <-chan struct{} { return a.exited }

// Pids are the processes of the session: Xvfb's and the app's (its
// container runtime's, in a container).
func (a *Host) Pids() (xvfb, app int) {
	if a.xvfb != nil {
		xvfb = a.xvfb.Pid()
	}
	switch {
	case a.ctr != nil:
		app = a.ctr.Pid()
	case a.cmd != nil && a.cmd.Process != nil:
		app = a.cmd.Process.Pid
	}
	return xvfb, app
}

// appErr is how the app ended, once appDone is closed.
func (a *Host) appErr() any {
	if a.ctr != nil {
		return a.ctr.Err()
	}
	return a.cmd.ProcessState
}

// ExitReason says why the app ended on its own: ReasonAppLimits when its
// container hit a limit, else ReasonAppExited.
func (a *Host) ExitReason() string {
	if a.ctr != nil && a.ctr.LimitHit() {
		return ReasonAppLimits
	}
	return ReasonAppExited
}

// Draw captures the display into img: the session's video source (the
// streamer's Source). A failed capture leaves img as it was.
func (a *Host) Draw(img *yuv.Image, _ uint32, _ time.Time) {
	err := a.cap.Capture(img)
	if err != nil && !a.capFailed {
		a.log.Warn("capture failed; repeating the last frame", "err", err)
	}
	a.capFailed = err != nil
}

// HandleInput injects the client's input (the streamer's InputSink) with
// XTest: pointer, buttons, wheel, keys (Android key codes mapped to
// keysyms), committed text (typed as Unicode, x11.Input.Type) and the
// first touch point as the pointer. Gamepads have no X11
// equivalent: they go to virtual pads (uinput) where the host allows it,
// else Unsupported says why. It must not block for long.
func (a *Host) HandleInput(ev protocol.Input) {
	a.mu.Lock()
	defer a.mu.Unlock()
	var err error
	switch ev.Type {
	case protocol.InputMouseMove:
		err = a.in.Move(ev.X, ev.Y)
	case protocol.InputMouseButton:
		if b, ok := x11.Button(ev.Button); ok {
			err = a.in.Button(b, ev.Pressed)
		}
	case protocol.InputMouseWheel:
		err = a.wheel(ev.X, ev.Y)
	case protocol.InputKey:
		sym, ok := x11.Keysym(ev.Code)
		if !ok {
			a.log.Debug("no keysym for key code", "code", ev.Code)
			return
		}
		if ok, err = a.in.Key(sym, ev.Pressed); err == nil && !ok {
			a.log.Debug("keymap lacks keysym", "code", ev.Code, "keysym", sym)
		}
	case protocol.InputText:
		var dropped int
		if dropped, err = a.in.Type(ev.Text); err == nil && dropped > 0 {
			a.log.Debug("text not typed in full", "runes", dropped)
		}
	case protocol.InputTouchStart:
		if a.touch < 0 {
			a.touch = ev.ID
			if err = a.in.Move(ev.X, ev.Y); err == nil {
				err = a.in.Button(1, true)
			}
		}
	case protocol.InputTouchMove:
		if ev.ID == a.touch {
			err = a.in.Move(ev.X, ev.Y)
		}
	case protocol.InputTouchEnd:
		if ev.ID == a.touch {
			a.touch = -1
			err = a.in.Button(1, false)
		}
	case protocol.InputGamepadButton, protocol.InputGamepadAxes:
		a.pads.handle(ev)
	case protocol.ClipboardSet:
		err = a.setClipboard(ev.Text)
	}
	if err != nil && !errors.Is(err, x11.ErrClosed) {
		a.log.Debug("inject input", "type", ev.Type, "err", err)
	}
}

// maxWheelClicks bounds the clicks one wheel message makes.
const maxWheelClicks = 10

// wheel turns a wheel message into clicks of X buttons 4/5 (up/down) and
// 6/7 (left/right); positive y scrolls up, as on Android.
func (a *Host) wheel(x, y int) error {
	for _, axis := range []struct{ v, neg, pos int }{{y, 5, 4}, {x, 6, 7}} {
		b := axis.pos
		if axis.v < 0 {
			b = axis.neg
		}
		for range min(max(axis.v, -axis.v), maxWheelClicks) {
			if err := a.in.Button(b, true); err != nil {
				return err
			}
			if err := a.in.Button(b, false); err != nil {
				return err
			}
		}
	}
	return nil
}

// Close disconnects, ends the app's process group (SIGTERM, then SIGKILL
// after the stop timeout) and stops Xvfb, which removes its socket. Call
// it after the video loop stopped drawing.
func (a *Host) Close() {
	select {
	case <-a.closing:
		return
	default:
		close(a.closing)
	}
	a.wg.Wait()
	a.pads.close()
	a.clip.close()
	if a.in != nil {
		a.in.Close()
	}
	if a.cap != nil {
		a.cap.Close()
	}
	if a.screen != nil {
		a.screen.Close()
	}
	a.stopContainer()
	if a.cmd != nil {
		pgid := a.cmd.Process.Pid
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		select {
		case <-a.appDone:
		case <-time.After(a.stopT):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-a.appDone
		}
		// What the app started may outlive it in its group.
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
	}
	if a.audio != nil {
		a.audio.Close()
	}
	if a.xvfb != nil {
		a.xvfb.Stop()
	}
	if a.ctrDir != "" {
		_ = os.RemoveAll(a.ctrDir)
	}
	// Last: the slot's uids ran the app and its sound server.
	a.slot.Release()
}
