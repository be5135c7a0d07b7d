package apphost

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/internal/container"
	"github.com/streamstack/streamstack/internal/x11"
)

// needContainers skips where apps cannot run in containers, saying why.
func needContainers(t testing.TB) Config {
	t.Helper()
	needXvfb(t)
	if _, err := exec.LookPath("runc"); err != nil {
		t.Skip("runc not installed (scripts/install-deps.sh installs it)")
	}
	if os.Geteuid() != 0 {
		t.Skip("app containers need root")
	}
	cfg := DefaultConfig()
	cfg.SessionID = fmt.Sprintf("t%d", time.Now().UnixNano())
	cfg.AppUIDBase = 1_800_000_000
	cfg.AppUIDSlots = 64
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // as the agent makes it: 0711
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	cfg.RuntimeDir = dir
	return cfg
}

// An app in its container runs as its slot's uid, with none of the
// streamer's environment, no privilege, and only its display, cookie and
// sound socket of the host; Close leaves no process, container, cgroup or
// directory.
func TestX11AppContainer(t *testing.T) {
	cfg := needContainers(t)
	t.Setenv("STREAMSTACK_NATS_URL", "nats://user:secret@host")
	// The script reports what the app sees, then keeps running.
	script := `echo uid=$(id -u) env=$(env | grep -c STREAMSTACK_)
grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status
echo procs=$(ls -d /proc/[0-9]* | wc -l)
ls /tmp/.X11-unix
xdpyinfo >/dev/null 2>&1 && echo display-ok
XAUTHORITY=/dev/null xdpyinfo >/dev/null 2>&1 && echo display-without-cookie
pactl info >/dev/null 2>&1 && echo sound-ok
echo ready
exec sleep 60`
	app := apps.App{Name: "probe", Kind: apps.KindX11, Command: []string{"/bin/sh", "-c", script}}
	a, err := Start(context.Background(), cfg, app, 320, 240, x11TestLog())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(a.stderr.String(), "ready") {
		if time.Now().After(deadline) {
			t.Fatalf("the app did not report: %q", a.stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := a.stderr.String()
	for _, want := range []string{"uid=1000 env=0", "NoNewPrivs:\t1", "Seccomp:\t2", "X0\n", "display-ok", "sound-ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in the app's report:\n%s", want, out)
		}
	}
	if strings.Contains(out, "display-without-cookie") {
		t.Errorf("the display admitted a client without the cookie:\n%s", out)
	}
	hostUID := a.slot.HostUID(appUID)
	var st syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d", a.audio.Pid()), &st); err != nil || st.Uid != hostUID {
		t.Errorf("sound server runs as uid %d (%v), want the app's %d", st.Uid, err, hostUID)
	}
	// The one cookie file is the container's; no argv names it or any
	// other Xauthority file.
	if a.xvfb.AuthFile() != "" {
		t.Errorf("Xvfb wrote a cookie file of its own too: %s", a.xvfb.AuthFile())
	}
	p := fmt.Sprintf("/proc/%d/cmdline", a.xvfb.Pid())
	if b, _ := os.ReadFile(p); strings.Contains(string(b), "Xauthority") || strings.Contains(string(b), a.share) {
		t.Errorf("%s names the cookie file: %q", p, b)
	}
	xvfb, runtimePid := a.Pids()
	pulse := a.audio.Pid()
	id := ContainerID(cfg.SessionID)
	sock := x11.SocketPath(a.xvfb.Number())

	a.Close()
	for _, p := range []int{xvfb, runtimePid, pulse} {
		if !gone(p) {
			t.Errorf("pid %d still running after Close", p)
		}
	}
	if ents, _ := os.ReadDir(cfg.RuntimeDir); len(ents) != 0 {
		t.Errorf("left in the runtime directory: %v", ents)
	}
	if _, err := os.Stat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("display socket left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(container.DefaultRunDir, "runc", id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("container state left: %v", err)
	}
	if _, err := os.Stat(filepath.Join("/sys/fs/cgroup/pids", container.CgroupPath(id))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cgroup left: %v", err)
	}
	select {
	case <-a.Exited():
		t.Error("Exited closed by Close: the session would end with 'app exited'")
	default:
	}
}

// A fork bomb ends its session with ReasonAppLimits.
func TestX11AppContainerLimits(t *testing.T) {
	cfg := needContainers(t)
	app := apps.App{Name: "bomb", Kind: apps.KindX11, Command: []string{"/bin/sh", "-c", "while :; do sleep 30 & done"},
		Limits: apps.Limits{Pids: 32}}
	a, err := Start(context.Background(), cfg, app, 320, 240, x11TestLog())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	select {
	case <-a.Exited():
	case <-time.After(20 * time.Second):
		t.Fatal("the fork bomb ran on")
	}
	if r := a.ExitReason(); r != ReasonAppLimits {
		t.Fatalf("reason %q, want %q", r, ReasonAppLimits)
	}
}

// An app whose catalogue entry asks for an outbound network has one, with
// a default route, and still reaches neither the host's loopback nor the
// cloud metadata address. Its network starts beside the display, but the
// runtime is called to make its container only once the network's filter
// is in place (a runtime wrapper looks for the filter's table).
func TestX11AppContainerOutbound(t *testing.T) {
	cfg := needContainers(t)
	for _, bin := range []string{"pasta", "nft"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed (scripts/install-deps.sh installs passt and nftables)", bin)
		}
	}
	runtimeLog := filepath.Join(t.TempDir(), "runtime.log")
	cfg.ContainerRuntime = filterCheckingRuntime(t, runtimeLog)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan struct{}, 1)
	go func() {
		if c, err := ln.Accept(); err == nil {
			accepted <- struct{}{}
			_ = c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	script := fmt.Sprintf(`ip route show default | grep -q default && echo route-ok
timeout 2 bash -c 'echo > /dev/tcp/127.0.0.1/%d' 2>/dev/null && echo BREACH-loopback
timeout 2 bash -c 'echo > /dev/tcp/169.254.169.254/80' 2>/dev/null && echo BREACH-metadata
echo done; exec sleep 60`, port)
	app := apps.App{Name: "net", Kind: apps.KindX11, Command: []string{"/bin/sh", "-c", script}, Network: apps.NetworkOutbound}
	a, err := Start(context.Background(), cfg, app, 320, 240, x11TestLog())
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(a.stderr.String(), "done") {
		if time.Now().After(deadline) {
			t.Fatalf("the app did not report: %q", a.stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	out := a.stderr.String()
	if !strings.Contains(out, "route-ok") || strings.Contains(out, "BREACH") {
		t.Errorf("app's report:\n%s", out)
	}
	select {
	case <-accepted:
		t.Error("the host's loopback listener was reached")
	default:
	}
	if b, err := os.ReadFile(runtimeLog); err != nil || string(b) != "filter-present\n" {
		t.Errorf("when the runtime was asked to run the container: %q, %v; want the filter present", b, err)
	}
}

// filterCheckingRuntime is a runtime (runc, through a wrapper) that
// writes to log, each time it is asked to run a container, whether the
// filter table of that container's network uid (its slot's last) exists.
func filterCheckingRuntime(t *testing.T, log string) string {
	t.Helper()
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("runc not installed")
	}
	script := fmt.Sprintf(`#!/bin/sh
b=; prev=
for a; do [ "$prev" = --bundle ] && b=$a; prev=$a; done
if [ -n "$b" ]; then
	base=$(grep -o '"hostID":[0-9]*' "$b/config.json" | head -n 1 | cut -d: -f2)
	if nft list table inet streamstack_net_$((base + %d)) >/dev/null 2>&1; then
		echo filter-present >> %q
	else
		echo filter-missing >> %q
	fi
fi
exec %q "$@"
`, container.DefaultSlots().Size-1, log, log, runc)
	path := filepath.Join(t.TempDir(), "runc-wrapper")
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}
