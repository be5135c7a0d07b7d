package container

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Runtime is an OCI runtime's command line: runc, or crun, which takes
// the same commands.
type Runtime struct {
	// Binary is the runtime; empty: "runc" from PATH.
	Binary string
	// StateDir is the runtime's state directory (--root); empty:
	// DefaultRunDir/runc.
	StateDir string
	// LimitPoll is how often a running container's limit counters are
	// read; zero: 500 ms.
	LimitPoll time.Duration
}

func (r Runtime) binary() string {
	if r.Binary == "" {
		return "runc"
	}
	return r.Binary
}

func (r Runtime) stateDir() string {
	if r.StateDir == "" {
		return filepath.Join(DefaultRunDir, "runc")
	}
	return r.StateDir
}

func (r Runtime) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, r.binary(), append([]string{"--root", r.stateDir()}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	// runc is a Go program, started twice per container (run, then init,
	// to which runc hands GOMAXPROCS on); its work is sequential, and with
	// a P per core its start-up costs more CPU: 4 ms of about 85 per
	// `runc run` on a 2-core host, CPU taken from the display's start
	// beside it.
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	return cmd
}

// Container is a running container: the runtime's `run` process, whose
// exit is the app's.
type Container struct {
	ID      string
	rt      Runtime
	bundle  string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
	limit   chan struct{} // closed when a limit was hit
	limitMu sync.Once
	stop    chan struct{}
	wg      sync.WaitGroup
	cgroup  cgroupFiles
}

// Start writes the bundle of spec into dir (made, 0700) and runs it. The
// app's stdout and stderr go to out. The container runs until its app
// exits, Stop, or the caller dies (the runtime process has
// PR_SET_PDEATHSIG; see Spec.Pdeathsig for the app). On error nothing is
// left running.
func (r Runtime) Start(ctx context.Context, spec Spec, dir string, out io.Writer) (_ *Container, err error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	bundle := filepath.Join(dir, "container")
	if err := os.Mkdir(bundle, 0o711); err != nil {
		return nil, fmt.Errorf("%w: bundle: %w", ErrRuntime, err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(bundle)
		}
	}()
	root, hostBinds, err := spec.rootfs(bundle)
	if err != nil {
		return nil, fmt.Errorf("%w: root: %w", ErrRuntime, err)
	}
	conf, err := spec.config(root, hostBinds)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(conf)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSpec, err)
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), b, 0o600); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRuntime, err)
	}
	// --keep: the runtime leaves the container's cgroup after the app
	// exits, so its OOM and pids counters can still be read; Stop deletes
	// it.
	cmd := r.command(context.WithoutCancel(ctx), "run", "--keep", "--bundle", bundle, spec.ID)
	cmd.SysProcAttr.Setpgid = true
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRuntime, err)
	}
	c := &Container{ID: spec.ID, rt: r, bundle: bundle, cmd: cmd, done: make(chan struct{}),
		limit: make(chan struct{}), stop: make(chan struct{}), cgroup: cgroupFilesOf(spec.ID)}
	go func() { c.err = cmd.Wait(); close(c.done) }()
	c.wg.Go(c.watchLimits)
	return c, nil
}

// Pid is the runtime process's.
func (c *Container) Pid() int { return c.cmd.Process.Pid }

// Done is closed when the app (and so the runtime process) has exited.
func (c *Container) Done() <-chan struct{} { return c.done }

// Err is how the runtime process ended, once Done is closed: the app's
// exit status, or ErrLimits when it hit its memory or process limit.
func (c *Container) Err() error {
	<-c.done
	if c.LimitHit() {
		return ErrLimits
	}
	return c.err
}

// LimitHit reports whether the container hit its memory limit (an OOM
// kill) or its process limit.
func (c *Container) LimitHit() bool {
	select {
	case <-c.limit:
		return true
	default:
	}
	if c.cgroup.hit() {
		c.limitMu.Do(func() { close(c.limit) })
		return true
	}
	return false
}

// Limit is closed when the container hit a limit; the app is being
// ended then.
func (c *Container) Limit() <-chan struct{} { return c.limit }

// watchLimits reads the counters while the app runs and ends a container
// that hit a limit: a fork bomb held at its pids limit never exits by
// itself, and an OOM kill of one of its processes leaves the app broken.
func (c *Container) watchLimits() {
	every := c.rt.LimitPoll
	if every <= 0 {
		every = 500 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-c.stop:
			return
		case <-t.C:
			if c.LimitHit() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_ = c.rt.command(ctx, "kill", "--all", c.ID, "KILL").Run()
				cancel()
				return
			}
		}
	}
}

// Stop ends the app (SIGTERM through the runtime, which forwards it to
// the container's init; SIGKILL to every process of the container after
// timeout), then deletes the container: its processes, cgroup, state and
// bundle are gone when it returns. Safe to call twice.
func (c *Container) Stop(timeout time.Duration) {
	select {
	case <-c.stop:
	default:
		close(c.stop)
	}
	select {
	case <-c.done:
	default:
		_ = c.cmd.Process.Signal(syscall.SIGTERM)
		t := time.NewTimer(timeout)
		select {
		case <-c.done:
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			_ = c.rt.command(ctx, "kill", "--all", c.ID, "KILL").Run()
			cancel()
			<-c.done
		}
		t.Stop()
	}
	c.wg.Wait()
	c.LimitHit() // read the counters before the cgroup goes
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = c.rt.Delete(ctx, c.ID)
	_ = os.RemoveAll(c.bundle)
}

// Delete removes container id, killing what still runs in it: what a
// supervisor calls for the containers of a streamer that died. A
// container that does not exist is no error.
func (r Runtime) Delete(ctx context.Context, id string) error {
	if !ValidID(id) {
		return fmt.Errorf("%w: id %q", ErrSpec, id)
	}
	var stderr bytes.Buffer
	cmd := r.command(ctx, "delete", "--force", id)
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil || bytes.Contains(stderr.Bytes(), []byte("does not exist")):
		err = nil
	case errors.As(err, &ee):
		err = fmt.Errorf("%w: delete %s: %s", ErrRuntime, id, bytes.TrimSpace(stderr.Bytes()))
	default:
		err = fmt.Errorf("%w: delete %s: %w", ErrRuntime, id, err)
	}
	return errors.Join(err, removeCgroups(ctx, id))
}

// Leftover reports whether anything of container id remains: its
// runtime state or a cgroup. What a supervisor checks before Delete, so
// that a session without a container costs no runtime call.
func (r Runtime) Leftover(id string) bool {
	if !ValidID(id) {
		return false
	}
	if isDir(filepath.Join(r.stateDir(), id)) || isDir(filepath.Join(cgroupRoot, CgroupPath(id))) {
		return true
	}
	m, _ := filepath.Glob(filepath.Join(cgroupRoot, "*", strings.TrimPrefix(CgroupPath(id), "/")))
	return len(m) > 0
}

// OpenGate lets a container started with Spec.Gate exec its app: hostPath
// is the FIFO on the host. It waits for the container to reach the gate,
// at most until ctx ends or the container has exited.
func (c *Container) OpenGate(ctx context.Context, hostPath string) error {
	opened := make(chan error, 1)
	go func() {
		// Opening for writing blocks until the container opens it to read.
		f, err := os.OpenFile(hostPath, os.O_WRONLY, 0)
		if err == nil {
			_, err = f.Write([]byte("go\n"))
			_ = f.Close()
		}
		opened <- err
	}()
	select {
	case err := <-opened:
		return err
	case <-c.done:
	case <-ctx.Done():
	}
	// Unblock the open: a reader of our own takes the other end.
	if r, err := os.OpenFile(hostPath, os.O_RDONLY|syscall.O_NONBLOCK, 0); err == nil {
		<-opened
		_ = r.Close()
	}
	select {
	case <-c.done:
		return fmt.Errorf("%w: the app's container exited before its gate opened: %w", ErrRuntime, c.err)
	default:
		return fmt.Errorf("%w: gate: %w", ErrRuntime, ctx.Err())
	}
}
