package apphost

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/internal/x11"
	"github.com/streamstack/streamstack/internal/yuv"
)

func needXvfb(t testing.TB) {
	t.Helper()
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Fatal("Xvfb is not installed: scripts/install-deps.sh installs it")
	}
}

func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && i+2 < len(b) && b[i+2] == 'Z'
}

func procLine(t *testing.T, pid int, file, prefix string) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
	if err != nil {
		t.Fatal(err)
	}
	for l := range strings.SplitSeq(string(b), "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	t.Fatalf("no %q in /proc/%d/%s", prefix, pid, file)
	return ""
}

// processConfig runs apps as processes beside the streamer
// (--app-isolation=none).
func processConfig() Config {
	cfg := DefaultConfig()
	cfg.AppIsolation = IsolationNone
	return cfg
}

// With --app-isolation=none the app runs in its own process group with
// its limits, without the streamer's settings in its environment, as the
// configured user; Close ends it and Xvfb and removes the display's
// socket.
func TestX11AppProcessIsolationAndTeardown(t *testing.T) {
	needXvfb(t)
	t.Setenv("STREAMSTACK_NATS_URL", "nats://user:secret@host")
	app := apps.App{Name: "sleeper", Kind: apps.KindX11, Command: []string{"sleep", "30"},
		Limits: apps.Limits{AddressSpaceMB: 512, NoFile: 64, NProc: 4096}, Env: []string{"APP_SETTING=1"}}
	if os.Geteuid() == 0 {
		app.User = "nobody"
	}
	a, err := Start(context.Background(), processConfig(), app, 320, 240, x11TestLog())
	if err != nil {
		t.Fatal(err)
	}
	xvfb, pid := a.Pids()
	// prlimit execs the app once the limits are set.
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); strings.TrimSpace(string(b)) == "sleep" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the app did not start")
		}
	}
	if pgid, _ := syscall.Getpgid(pid); pgid != pid {
		t.Errorf("app's process group %d, want its own (%d)", pgid, pid)
	}
	if l := procLine(t, pid, "limits", "Max address space"); !strings.Contains(l, "536870912") {
		t.Errorf("limits: %s", l)
	}
	if l := procLine(t, pid, "limits", "Max open files"); !strings.Contains(l, " 64 ") {
		t.Errorf("limits: %s", l)
	}
	if l := procLine(t, pid, "limits", "Max processes"); !strings.Contains(l, " 4096 ") {
		t.Errorf("limits: %s", l)
	}
	if app.User != "" {
		if l := procLine(t, pid, "status", "Uid:"); !strings.Contains(l, "65534") {
			t.Errorf("app runs as %s, want nobody", l)
		}
	}
	env, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	vars := strings.Split(string(env), "\x00")
	if strings.Contains(string(env), "STREAMSTACK_") || !strings.Contains(string(env), "APP_SETTING=1") {
		t.Errorf("app environment %q", vars)
	}
	if !strings.Contains(string(env), "DISPLAY="+a.xvfb.Display+"\x00") {
		t.Errorf("app environment has no DISPLAY=%s", a.xvfb.Display)
	}
	sock := x11.SocketPath(a.xvfb.Number())
	xauth := a.xvfb.AuthFile()
	if !strings.Contains(string(env), "XAUTHORITY="+xauth+"\x00") {
		t.Errorf("app environment has no XAUTHORITY=%s", xauth)
	}
	if fi, err := os.Stat(xauth); err != nil {
		t.Error(err)
	} else if st := fi.Sys().(*syscall.Stat_t); app.User != "" && st.Uid != 65534 {
		t.Errorf("%s owned by uid %d, want the app's (nobody)", xauth, st.Uid)
	}

	// The app's sound server: its socket in the environment, in a
	// directory only the app's user (and root) can enter.
	if a.audio == nil {
		t.Fatal("no sound server with AppAudio on")
	}
	pulseSock := a.audio.server.Socket
	if !strings.Contains(string(env), "PULSE_SERVER=unix:"+pulseSock+"\x00") {
		t.Errorf("app environment has no PULSE_SERVER for %s", pulseSock)
	}
	if fi, err := os.Stat(filepath.Dir(pulseSock)); err != nil {
		t.Error(err)
	} else if st := fi.Sys().(*syscall.Stat_t); fi.Mode().Perm() != 0o700 || (app.User != "" && st.Uid != 65534) {
		t.Errorf("sound socket directory %v owned by uid %d, want 0700 and the app's user", fi.Mode(), st.Uid)
	}
	pulsePid := a.audio.Pid()

	img, _ := yuv.NewImage(320, 240)
	a.Draw(img, 0, time.Now())
	if img.Y[0] == 0 { // the converter's black is 16
		t.Error("nothing captured")
	}

	a.Close()
	a.Close()
	for _, p := range []int{xvfb, pid, pulsePid} {
		if !gone(p) {
			t.Errorf("pid %d still running after Close", p)
		}
	}
	for _, p := range []string{sock, filepath.Dir(xauth), filepath.Dir(filepath.Dir(pulseSock))} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind: %v", p, err)
		}
	}
	select {
	case <-a.Exited():
		t.Error("Exited closed by Close: the session would end with 'app exited'")
	default:
	}
}

// The display admits the app (as its own user when the streamer is root)
// through XAUTHORITY, and nothing without the cookie.
func TestX11AppProcessDisplayCookie(t *testing.T) {
	needXvfb(t)
	if _, err := exec.LookPath("xdpyinfo"); err != nil {
		t.Skip("xdpyinfo (x11-utils) not installed")
	}
	app := apps.App{Name: "probe", Kind: apps.KindX11, Command: []string{"xdpyinfo"}}
	if os.Geteuid() == 0 {
		app.User = "nobody"
	}
	a, err := Start(context.Background(), processConfig(), app, 320, 240, x11TestLog())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	select {
	case <-a.appDone:
	case <-time.After(10 * time.Second):
		t.Fatal("xdpyinfo did not finish")
	}
	if !a.cmd.ProcessState.Success() {
		t.Fatalf("xdpyinfo as the app: %v: %s", a.cmd.ProcessState, a.stderr.String())
	}

	probe := exec.Command("xdpyinfo", "-display", a.xvfb.Display)
	probe.Env = []string{"XAUTHORITY=" + filepath.Join(t.TempDir(), "none")}
	out, err := probe.CombinedOutput()
	if err == nil {
		t.Fatalf("a client without the cookie reached the display:\n%s", out)
	}
}

func TestX11AppExit(t *testing.T) {
	needXvfb(t)
	a, err := Start(context.Background(), DefaultConfig(),
		apps.App{Name: "quick", Kind: apps.KindX11, Command: []string{"sh", "-c", "echo bye >&2; exit 3"}}, 320, 240, x11TestLog())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	select {
	case <-a.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("exit not noticed")
	}
	if !strings.Contains(a.stderr.String(), "bye") {
		t.Errorf("stderr kept: %q", a.stderr.String())
	}
}

// A sound server that dies ends the session as its display would.
func TestX11SoundServerExitEndsSession(t *testing.T) {
	needXvfb(t)
	a, err := Start(context.Background(), DefaultConfig(),
		apps.App{Name: "sleeper", Kind: apps.KindX11, Command: []string{"sleep", "30"}}, 320, 240, x11TestLog())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := syscall.Kill(a.audio.Pid(), syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("the sound server's end was not noticed")
	}
	// Its capture saw the end too: the frames channel is closed.
	for range a.AudioFrames() {
	}
}

func TestX11AppStartFailsCleanly(t *testing.T) {
	needXvfb(t)
	_, err := Start(context.Background(), DefaultConfig(),
		apps.App{Name: "missing", Kind: apps.KindX11, Command: []string{"/nonexistent/app"}}, 320, 240, x11TestLog())
	if err == nil {
		t.Fatal("started a missing program")
	}
	_, err = Start(context.Background(), processConfig(),
		apps.App{Name: "nouser", Kind: apps.KindX11, Command: []string{"true"}, User: "no-such-user-here"}, 320, 240, x11TestLog())
	if err == nil {
		t.Fatal("started as a missing user")
	}
}

func x11TestLog() *slog.Logger {
	if os.Getenv("APPHOST_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}
