package pulse

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SinkName is the null sink every session server has; its monitor source
// (MonitorName) is what a Recorder reads.
const (
	SinkName    = "session"
	MonitorName = SinkName + ".monitor"
)

// ServerConfig is one session's sound server.
type ServerConfig struct {
	// Command is the daemon binary; empty: "pulseaudio" from PATH.
	Command string
	// Rate and Channels are the null sink's format; 0: 48000 Hz stereo,
	// what Opus carries, so nothing resamples on the way out.
	Rate, Channels int
	// UID and GID, when UID is not -1 and differs from ours, are who the
	// daemon runs as (we must be root): the app's own uid, the only one
	// the daemon admits besides members of our group (us, for the
	// capture). Otherwise it runs as us and admits only our uid. No
	// anonymous clients either way: the socket's permissions are not
	// what keeps another session out.
	UID, GID int
	// StartTimeout bounds the wait for the daemon to be ready.
	StartTimeout time.Duration
	// StopTimeout is how long it gets to exit on SIGTERM before SIGKILL.
	StopTimeout time.Duration
	// Dir is where the daemon's private directory is made; empty:
	// os.TempDir().
	Dir string
	// SocketDir, when set, is where the socket is made instead of a
	// directory of the daemon's own: an existing directory the daemon's
	// user may write, which a container binds in before the daemon runs.
	// The caller removes it.
	SocketDir string
}

// Server is a running PulseAudio daemon private to one session: no
// hardware, one null sink, one Unix socket in a directory of its own, no
// D-Bus, no module loading after start, no exit on idle. It is a child of
// this process in its process group and dies with it (PR_SET_PDEATHSIG).
type Server struct {
	// Socket is the daemon's native-protocol socket: the path another
	// process connects to (Env). It may be longer than a Unix socket's
	// address holds (MaxSocketPath); the daemon and this process reach it
	// through a descriptor of its directory instead (Addr).
	Socket string
	// sockDir is the socket's directory, open for Addr's short path.
	sockDir *os.File
	dir     string
	cmd     *exec.Cmd
	done    chan struct{}
	stopT   time.Duration
	log     *tailLines

	closeOnce sync.Once
}

// StartServer starts the daemon and returns once it is ready for
// clients. On error nothing is left running or on disk.
func StartServer(ctx context.Context, cfg ServerConfig) (_ *Server, err error) {
	if cfg.Command == "" {
		cfg.Command = "pulseaudio"
	}
	if cfg.Rate == 0 {
		cfg.Rate = 48000
	}
	if cfg.Channels == 0 {
		cfg.Channels = 2
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 10 * time.Second
	}
	if cfg.StopTimeout <= 0 {
		cfg.StopTimeout = 2 * time.Second
	}
	bin, err := exec.LookPath(cfg.Command)
	if err != nil {
		return nil, fmt.Errorf("%w: %w (install pulseaudio)", ErrServer, err)
	}
	// Inside a caller's directory (a session's, already named for
	// streamstack) a short name: the socket's path is what an app of
	// another process has to connect to (Env), within MaxSocketPath.
	prefix := "pulse-"
	if cfg.Dir == "" {
		prefix = "streamstack-pulse-"
	}
	dir, err := os.MkdirTemp(cfg.Dir, prefix)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrServer, err)
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	// The daemon's files stay in dir, 0700 and the daemon's user's; the
	// socket is in dir/sock, whose path a container binds in.
	sockDir := filepath.Join(dir, "sock")
	if err := os.Mkdir(sockDir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrServer, err)
	}
	if cfg.SocketDir != "" {
		sockDir = cfg.SocketDir
	}
	asOther := cfg.UID >= 0 && cfg.UID != os.Getuid()
	auth := "auth-anonymous=0 auth-cookie-enabled=0"
	if asOther {
		for _, d := range []string{dir, filepath.Join(dir, "sock")} {
			if err := os.Chown(d, cfg.UID, cfg.GID); err != nil {
				return nil, fmt.Errorf("%w: directory for uid %d: %w", ErrServer, cfg.UID, err)
			}
		}
		g, err := user.LookupGroupId(strconv.Itoa(os.Getegid()))
		if err != nil {
			return nil, fmt.Errorf("%w: our group: %w", ErrServer, err)
		}
		// The daemon checks a client's credentials (SCM_CREDENTIALS): its
		// own uid (the app's), or our group's gid (our capture).
		auth += " auth-group-enable=1 auth-group=" + g.Name
	}
	// The socket's directory goes to the daemon as descriptor 3, and the
	// daemon binds its socket through /proc/self/fd/3: a Unix socket's
	// address holds 107 bytes and both the daemon and libpulse truncate a
	// longer path without a word, and a session's directory (a warm app's
	// id names its agent, whose name is the host's) can be longer. The
	// socket then landed at a truncated name (the app, told the full
	// path, had no sound), or, where the cut fell on a directory, the
	// daemon's socket module failed to load and every client was refused.
	dirFile, err := os.Open(sockDir)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrServer, err)
	}
	s := &Server{Socket: filepath.Join(sockDir, "native"), sockDir: dirFile, dir: dir,
		done: make(chan struct{}), stopT: cfg.StopTimeout, log: &tailLines{max: 20}}
	defer func() {
		if err != nil {
			_ = dirFile.Close()
		}
	}()
	script := fmt.Sprintf(`load-module module-null-sink sink_name=%s rate=%d channels=%d sink_properties=device.description=streamstack
set-default-sink %s
set-default-source %s
load-module module-native-protocol-unix socket=/proc/self/fd/%d/native %s
`, SinkName, cfg.Rate, cfg.Channels, SinkName, MonitorName, daemonDirFD, auth)
	scriptPath := filepath.Join(dir, "session.pa")
	if err := os.WriteFile(scriptPath, []byte(script), 0o600); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrServer, err)
	}
	if asOther {
		if err := os.Chown(scriptPath, cfg.UID, cfg.GID); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrServer, err)
		}
	}
	// -n: none of the system's default.pa (no hardware, no network
	// modules); the rest keeps the daemon in the foreground, ours, and
	// unable to grow after start (a client cannot load a TCP module).
	cmd := exec.Command(bin, "-n", "-F", scriptPath,
		"--daemonize=no", "--use-pid-file=no", "--system=no", "--exit-idle-time=-1",
		"--disallow-exit=yes", "--disallow-module-loading=yes", "--high-priority=no",
		"--realtime=no", "--no-cpu-limit=yes", "--disable-shm=yes",
		"--log-target=stderr", "--log-level=info", "--log-meta=no", "--log-time=no")
	// Everything the daemon writes (runtime files, state, its cookie)
	// lands in dir, and it finds no session bus or X display to register
	// with.
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir,
		"XDG_RUNTIME_DIR=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_STATE_HOME=" + filepath.Join(dir, "state"),
		"PULSE_RUNTIME_PATH=" + filepath.Join(dir, "run"), "PULSE_STATE_PATH=" + filepath.Join(dir, "state"),
		// The daemon closes every inherited descriptor at start but this
		// one (the autospawning client's, in libpulse's own use).
		"PULSE_PASSED_FD=" + strconv.Itoa(daemonDirFD)}
	cmd.ExtraFiles = []*os.File{dirFile} // descriptor 3: daemonDirFD
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.Dir = dir
	if asOther {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(cfg.UID), Gid: uint32(cfg.GID), NoSetGroups: false}
	}
	// Our own pipe, not StderrPipe: Wait must not close it under the
	// reader, which sees EOF when the daemon (and anything that inherited
	// its stderr) has gone.
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrServer, err)
	}
	cmd.Stderr = w
	err = cmd.Start()
	_ = w.Close()
	if err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("%w: %w", ErrServer, err)
	}
	s.cmd = cmd
	ready := make(chan struct{})
	logDone := make(chan struct{})
	go func() { s.readLog(r, ready); _ = r.Close(); close(logDone) }()
	go func() { _ = cmd.Wait(); <-logDone; close(s.done) }()

	timer := time.NewTimer(cfg.StartTimeout)
	defer timer.Stop()
	select {
	case <-ready:
		// The daemon says it started even when a module of its script
		// failed to load: without its socket it would refuse every client.
		fi, serr := os.Lstat(s.Socket)
		if serr == nil && fi.Mode().Type() == fs.ModeSocket {
			return s, nil
		}
		err = fmt.Errorf("%w: started without its socket %s: %s", ErrServer, s.Socket, s.log.String())
	case <-s.done:
		err = fmt.Errorf("%w: exited at start: %s", ErrServer, s.log.String())
	case <-timer.C:
		err = fmt.Errorf("%w: not ready after %v: %s", ErrServer, cfg.StartTimeout, s.log.String())
	case <-ctx.Done():
		err = fmt.Errorf("%w: %w", ErrServer, ctx.Err())
	}
	s.stop()
	return nil, err
}

// readyLine is what the daemon logs once its modules are loaded and the
// socket listens.
const readyLine = "Daemon startup complete"

func (s *Server) readLog(r io.Reader, ready chan<- struct{}) {
	sc := bufio.NewScanner(r)
	signalled := false
	for sc.Scan() {
		line := sc.Text()
		s.log.add(line)
		if !signalled && strings.Contains(line, readyLine) {
			close(ready)
			signalled = true
		}
	}
}

// daemonDirFD is the daemon's descriptor of its socket's directory: the
// first of cmd.ExtraFiles.
const daemonDirFD = 3

// MaxSocketPath is the longest path a Unix socket's address holds
// (sun_path, 108 bytes with its NUL); a client truncates a longer one.
const MaxSocketPath = 107

// Env is the environment entry that points a client of another process at
// this server. It fails with ErrSocketPath when Socket is longer than
// such a client can connect to.
func (s *Server) Env() (string, error) {
	if len(s.Socket) > MaxSocketPath {
		return "", fmt.Errorf("%w: %s is %d bytes, over the %d of a Unix socket's address (a shorter TMPDIR or host name)",
			ErrSocketPath, s.Socket, len(s.Socket), MaxSocketPath)
	}
	return "PULSE_SERVER=unix:" + s.Socket, nil
}

// Addr is the server address for a Recorder or Player of this process:
// the socket through this process's descriptor of its directory, a short
// path however long Socket is. Another process takes Env.
func (s *Server) Addr() string {
	return fmt.Sprintf("unix:/proc/self/fd/%d/native", s.sockDir.Fd())
}

// Pid is the daemon's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Done is closed when the daemon has exited.
func (s *Server) Done() <-chan struct{} { return s.done }

// Log is the end of what the daemon logged.
func (s *Server) Log() string { return s.log.String() }

// Close stops the daemon (SIGTERM, SIGKILL after StopTimeout), waits for
// it and removes its directory. Clients' streams fail with ErrStream.
func (s *Server) Close() error {
	s.closeOnce.Do(s.stop)
	return nil
}

func (s *Server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(s.stopT)
	select {
	case <-s.done:
	case <-t.C:
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	t.Stop()
	_ = s.sockDir.Close()
	_ = os.RemoveAll(s.dir)
}

// tailLines keeps the last max lines written to it.
type tailLines struct {
	mu    sync.Mutex
	max   int
	lines []string
}

func (t *tailLines) add(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.lines) == t.max {
		t.lines = t.lines[1:]
	}
	t.lines = append(t.lines, line)
}

func (t *tailLines) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.Join(t.lines, "; ")
}
