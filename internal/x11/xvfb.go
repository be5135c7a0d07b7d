package x11

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/streamstack/streamstack/internal/tailbuf"
)

// XvfbConfig is one virtual display.
type XvfbConfig struct {
	// Command is the server binary; empty: "Xvfb" from PATH.
	Command string
	// Width, Height and Depth of screen 0.
	Width, Height, Depth int
	// StartTimeout bounds the wait for Xvfb to report its display.
	StartTimeout time.Duration
	// StopTimeout is how long Xvfb gets to exit on SIGTERM before SIGKILL.
	StopTimeout time.Duration
	// Dir is where the cookie's private directory is made; empty:
	// os.TempDir(). An agent gives each streamer a directory of its own
	// here, and removes it when the streamer has gone, however it went.
	Dir string
	// NoAuth starts the server without access control: any local user
	// may connect. By default the server gets a fresh cookie (-auth) and
	// refuses clients without it.
	NoAuth bool
	// Cookie, when set, is the cookie instead of a fresh one: a caller
	// that hands it to the app itself, before the server runs. The server
	// then writes no Xauthority file of its own (AuthFile is empty).
	Cookie *Cookie
}

// Xvfb is a running virtual display server, a child of this process in
// its process group (so a signal to the group reaches it) that also dies
// with this process (PR_SET_PDEATHSIG).
type Xvfb struct {
	// Display is the DISPLAY value of the server (":7").
	Display string
	num     int
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
	stopT   time.Duration
	cookie  *Cookie
	auth    *authDir
}

// StartXvfb starts Xvfb on a display number it picks itself (-displayfd:
// no race with other servers for a free number) and returns once it
// accepts connections. It listens on its Unix socket only and, unless
// cfg.NoAuth, admits only clients that present its Cookie.
func StartXvfb(ctx context.Context, cfg XvfbConfig) (*Xvfb, error) {
	if cfg.Command == "" {
		cfg.Command = "Xvfb"
	}
	if cfg.Depth == 0 {
		cfg.Depth = 24
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 10 * time.Second
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = 2 * time.Second
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, fmt.Errorf("%w: screen %dx%d", ErrXvfb, cfg.Width, cfg.Height)
	}
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrXvfb, err)
	}
	defer func() { _ = r.Close() }()
	args := []string{"-displayfd", "3",
		"-screen", "0", fmt.Sprintf("%dx%dx%d", cfg.Width, cfg.Height, cfg.Depth),
		"-nolisten", "tcp", "-noreset", "+extension", "MIT-SHM", "+extension", "XTEST"}
	var cookie *Cookie
	var auth *authDir
	if !cfg.NoAuth {
		cookie = cfg.Cookie
		if cookie == nil {
			if cookie, err = NewCookie(); err != nil {
				_ = w.Close()
				return nil, fmt.Errorf("%w: %w", ErrXvfb, err)
			}
			if auth, err = newAuthDir(cfg.Dir, cookie); err != nil {
				_ = w.Close()
				return nil, err
			}
		}
	}
	cmd := exec.Command(cfg.Command, args...)
	stderr := tailbuf.New(2048)
	cmd.Stderr = stderr
	cmd.ExtraFiles = []*os.File{w}
	if cookie != nil {
		// The server reads its cookie from an inherited memory file, not
		// from a path in its argv, which every local user can read in
		// ps; -noreset: it reads it once, now.
		mf, err := cookieFile(cookie)
		if err != nil {
			_ = w.Close()
			auth.remove()
			return nil, err
		}
		defer func() { _ = mf.Close() }()
		cmd.ExtraFiles = append(cmd.ExtraFiles, mf)
		cmd.Args = append(cmd.Args, "-auth", "/dev/fd/4")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = w.Close()
		if auth != nil {
			auth.remove()
		}
		return nil, fmt.Errorf("%w: %v", ErrXvfb, err)
	}
	_ = w.Close()
	x := &Xvfb{cmd: cmd, done: make(chan struct{}), stopT: cfg.StopTimeout, cookie: cookie, auth: auth}
	go func() { x.err = cmd.Wait(); close(x.done) }()

	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(r).ReadString('\n')
		line <- s
	}()
	timer := time.NewTimer(cfg.StartTimeout)
	defer timer.Stop()
	var got string
	read := false
	select {
	case got = <-line:
		read = true
	case <-timer.C:
	case <-ctx.Done():
	}
	n, perr := strconv.Atoi(strings.TrimSpace(got))
	if perr != nil || n < 0 {
		x.Stop()
		if !read {
			<-line // the reader ends with the pipe: Xvfb is gone
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", ErrXvfb, ctx.Err())
		}
		return nil, fmt.Errorf("%w: no display number reported (exit: %v): %s", ErrXvfb, x.err, stderr.String())
	}
	x.num, x.Display = n, ":"+strconv.Itoa(n)
	return x, nil
}

// Pid is the server's process id.
func (x *Xvfb) Pid() int { return x.cmd.Process.Pid }

// Done is closed when the server has exited.
func (x *Xvfb) Done() <-chan struct{} { return x.done }

// Stop ends the server (SIGTERM, then SIGKILL after the stop timeout),
// waits for it, removes its socket and lock file if it left them (it
// does when killed) and the directory of its Xauthority file. Safe to
// call twice.
func (x *Xvfb) Stop() {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		select {
		case <-x.done:
		default:
			_ = x.cmd.Process.Signal(sig)
			select {
			case <-x.done:
			case <-time.After(x.stopT):
			}
		}
	}
	<-x.done
	if x.Display != "" {
		x.removeFiles()
	}
	if x.auth != nil {
		x.auth.remove()
	}
}

// Cookie is what a client must present to connect (NewCapturer,
// NewInput); nil for a server started with NoAuth.
func (x *Xvfb) Cookie() *Cookie { return x.cookie }

// AuthFile is the Xauthority file holding the cookie, for the XAUTHORITY
// of the display's other clients (the app); empty with NoAuth. Stop
// removes it.
func (x *Xvfb) AuthFile() string {
	if x.auth == nil {
		return ""
	}
	return x.auth.file
}

// ChownAuth hands the Xauthority file (and its private directory) to the
// user the app runs as, so that it, and no other user, can read it.
func (x *Xvfb) ChownAuth(uid, gid int) error {
	if x.auth == nil {
		return nil
	}
	return x.auth.chown(uid, gid)
}

// SocketPath and LockPath are the files an X server on display n makes.
func SocketPath(n int) string { return fmt.Sprintf("/tmp/.X11-unix/X%d", n) }

// LockPath is the lock file of display n.
func LockPath(n int) string { return fmt.Sprintf("/tmp/.X%d-lock", n) }

// Number is the display number.
func (x *Xvfb) Number() int { return x.num }

// removeFiles deletes what this server's display leaves in /tmp when the
// server is killed: its lock file, only while it still names this
// server's pid, and its socket, only while nothing answers on it (with
// -displayfd Xvfb writes no lock file, and the number may already belong
// to another server).
func (x *Xvfb) removeFiles() {
	if b, err := os.ReadFile(LockPath(x.num)); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid == x.Pid() {
			_ = os.Remove(LockPath(x.num))
		}
	}
	sock := SocketPath(x.num)
	if _, err := os.Stat(sock); err != nil {
		return
	}
	conn, err := net.DialTimeout("unix", sock, time.Second)
	if err == nil {
		_ = conn.Close()
		return // another server's now
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		_ = os.Remove(sock)
	}
}

// cookieFile is an anonymous memory file holding c's Xauthority entry,
// positioned at its start.
func cookieFile(c *Cookie) (*os.File, error) {
	fd, err := unix.MemfdCreate("xauthority", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("%w: cookie file: %w", ErrXvfb, err)
	}
	f := os.NewFile(uintptr(fd), "xauthority")
	if _, err := f.Write(c.Xauthority()); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%w: cookie file: %w", ErrXvfb, err)
	}
	if _, err := f.Seek(0, 0); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("%w: cookie file: %w", ErrXvfb, err)
	}
	return f, nil
}
