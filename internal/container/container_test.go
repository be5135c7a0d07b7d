package container

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer is an app's output, written by the runtime's pipe copier
// while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// needRuntime skips where containers cannot run, saying why.
func needRuntime(t *testing.T) (Runtime, Slots) {
	t.Helper()
	rt := Runtime{StateDir: filepath.Join(DefaultRunDir, "runc-test"), LimitPoll: 50 * time.Millisecond}
	slots := DefaultSlots()
	slots.Dir = filepath.Join(DefaultRunDir, "uid-slots-test")
	slots.Base = 1_500_000_000
	slots.Count = 64
	if _, err := exec.LookPath("runc"); err != nil {
		t.Skip("runc not installed (scripts/install-deps.sh installs it)")
	}
	if os.Geteuid() != 0 {
		t.Skip("containers need root")
	}
	return rt, slots
}

// bundleDir is a directory the container's root can traverse.
func bundleDir(t *testing.T) string {
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // t.TempDir's parent is 0700
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func run(t *testing.T, rt Runtime, slots Slots, spec Spec) (string, error) {
	t.Helper()
	slot, err := slots.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer slot.Release()
	spec.Slot = slot
	if spec.ID == "" {
		spec.ID = fmt.Sprintf("test-%s-%d", strings.ReplaceAll(t.Name(), "/", "-"), time.Now().UnixNano())
	}
	var out lockedBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := rt.Start(ctx, spec, bundleDir(t), &out)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Error("container did not exit")
	}
	c.Stop(time.Second)
	assertGone(t, rt, spec.ID)
	return out.String(), c.Err()
}

// assertGone checks that nothing of container id is left: no state, no
// cgroup.
func assertGone(t *testing.T, rt Runtime, id string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(rt.stateDir(), id)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("runtime state of %s left: %v", id, err)
	}
	f := cgroupFilesOf(id)
	for _, p := range []string{f.oom, f.pids} {
		if _, err := os.Stat(filepath.Dir(p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("cgroup %s left: %v", filepath.Dir(p), err)
		}
	}
}

func TestContainerConfinement(t *testing.T) {
	rt, slots := needRuntime(t)
	script := `id -u; id -g
grep -E '^(NoNewPrivs|Seccomp|CapEff|CapBnd):' /proc/self/status
echo procs=$(ls -d /proc/[0-9]* | wc -l)
echo links=$(ls /sys/class/net | tr '\n' ' ')
touch /usr/pwned 2>/dev/null && echo usr-writable
touch /etc/pwned 2>/dev/null && echo etc-writable
echo data > /tmp/x && echo tmp-ok
ls /root /home /work /var/lib 2>/dev/null | head -1 | grep -q . && echo host-dirs-visible
unshare -U true 2>/dev/null && echo unshare-ok
exit 0`
	out, err := run(t, rt, slots, Spec{Args: []string{"/bin/sh", "-c", script}, UID: 1000, GID: 1000,
		Env: []string{"PATH=/usr/bin:/bin"}, Limits: Limits{CPU: 0.5, MemoryBytes: 128 << 20, Pids: 32, NoFile: 256}})
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for _, want := range []string{"1000\n1000\n", "NoNewPrivs:\t1", "Seccomp:\t2", "CapEff:\t0000000000000000",
		"CapBnd:\t0000000000000000", "links=lo\n", "tmp-ok"} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in:\n%s", want, out)
		}
	}
	for _, bad := range []string{"usr-writable", "etc-writable", "host-dirs-visible", "unshare-ok"} {
		if strings.Contains(out, bad) {
			t.Errorf("%s:\n%s", bad, out)
		}
	}
	// Only the shell and what it runs: none of the host's processes.
	var procs int
	if _, err := fmt.Sscanf(out[strings.Index(out, "procs=")+6:], "%d", &procs); err != nil || procs > 4 {
		t.Errorf("container sees %d processes (%v):\n%s", procs, err, out)
	}
}

// The app's processes run as the slot's host uids: from the host, the
// container's uid 1000 is HostBase+1000.
func TestContainerHostUID(t *testing.T) {
	rt, slots := needRuntime(t)
	slot, err := slots.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer slot.Release()
	id := fmt.Sprintf("test-hostuid-%d", time.Now().UnixNano())
	var out lockedBuffer
	c, err := rt.Start(context.Background(), Spec{ID: id, Args: []string{"/bin/sleep", "60"}, UID: 1000, GID: 1000,
		Slot: slot, Pdeathsig: true}, bundleDir(t), &out)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(time.Second)
	want := slot.HostUID(1000)
	deadline := time.Now().Add(10 * time.Second)
	for !uidsInUse(slots)[slot.N] {
		if time.Now().After(deadline) {
			t.Fatalf("no process of uid %d on the host: %s", want, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// A slot in use is not handed out again.
	other, err := slots.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Release()
	if other.N == slot.N || other.HostBase == slot.HostBase {
		t.Fatalf("slot %d handed out twice", slot.N)
	}
	c.Stop(time.Second)
	assertGone(t, rt, id)
}

func TestContainerForkBombHitsLimit(t *testing.T) {
	rt, slots := needRuntime(t)
	out, err := run(t, rt, slots, Spec{Args: []string{"/bin/sh", "-c", "while :; do sleep 30 & done"},
		UID: 1000, GID: 1000, Limits: Limits{Pids: 16, MemoryBytes: 256 << 20}})
	if !errors.Is(err, ErrLimits) {
		t.Fatalf("fork bomb: %v: %s", err, out)
	}
}

func TestContainerMemoryHogHitsLimit(t *testing.T) {
	rt, slots := needRuntime(t)
	// head -c of /dev/zero through tail: tail keeps the last line, which
	// has no end, in memory.
	out, err := run(t, rt, slots, Spec{Args: []string{"/bin/sh", "-c", "head -c 1G /dev/zero | tail -c 900M > /dev/null"},
		UID: 1000, GID: 1000, Limits: Limits{MemoryBytes: 64 << 20, Pids: 32}})
	if !errors.Is(err, ErrLimits) {
		t.Fatalf("memory hog: %v: %s", err, out)
	}
}

func TestSlots(t *testing.T) {
	s := Slots{Dir: t.TempDir(), Base: 3_000_000_000, Count: 2, Size: 65536}
	a, err := s.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	if a.N == b.N || b.HostBase-a.HostBase != 65536 && a.HostBase-b.HostBase != 65536 {
		t.Fatalf("slots %+v %+v", a, b)
	}
	if _, err := s.Acquire(); !errors.Is(err, ErrNoSlot) {
		t.Fatalf("third of two: %v", err)
	}
	a.Release()
	c, err := s.Acquire()
	if err != nil || c.N != a.N {
		t.Fatalf("released slot not reused: %v %+v", err, c)
	}
	c.Release()
	b.Release()
	if ents, _ := os.ReadDir(s.Dir); len(ents) != 0 {
		t.Errorf("lock files left: %v", ents)
	}
	for _, bad := range []Slots{{Dir: "x", Base: 10, Count: 1, Size: 1}, {Dir: "x", Base: 4_000_000_000, Count: 1000, Size: 1 << 20}, {Base: 1 << 20, Count: 1, Size: 1}} {
		if bad.Validate() == nil {
			t.Errorf("%+v valid", bad)
		}
	}
}

func TestSpecRefusesBadInput(t *testing.T) {
	slot := &Slot{HostBase: 1 << 30, Size: 65536}
	for name, s := range map[string]Spec{
		"bad id":       {ID: "../x", Args: []string{"/bin/true"}, Slot: slot},
		"no command":   {ID: "a", Slot: slot},
		"no slot":      {ID: "a", Args: []string{"/bin/true"}},
		"uid outside":  {ID: "a", Args: []string{"/bin/true"}, Slot: slot, UID: 70000},
		"rel bind":     {ID: "a", Args: []string{"/bin/true"}, Slot: slot, Binds: []Bind{{Source: "x", Target: "/x"}}},
		"missing":      {ID: "a", Args: []string{"/nonexistent/app"}, Slot: slot},
		"missing bare": {ID: "a", Args: []string{"no-such-program-here"}, Slot: slot},
		"not visible":  {ID: "a", Args: []string{os.Args[0]}, Slot: slot}, // the test binary, in a host temp dir
		"relative":     {ID: "a", Args: []string{"./app"}, Slot: slot},
	} {
		if err := s.validate(); !errors.Is(err, ErrSpec) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestProbe(t *testing.T) {
	rt, slots := needRuntime(t)
	inv := rt.Probe(context.Background(), slots, "")
	if !inv.Available || !strings.Contains(inv.Runtime, "version") {
		t.Fatalf("%+v", inv)
	}
	inv = Runtime{Binary: "no-such-runtime"}.Probe(context.Background(), slots, "")
	if inv.Available || !strings.Contains(inv.Reason, "no-such-runtime") {
		t.Fatalf("%+v", inv)
	}
}

func TestFindCommand(t *testing.T) {
	slot := &Slot{HostBase: 1 << 30, Size: 65536}
	dir := filepath.Dir(os.Args[0])
	for name, s := range map[string]Spec{
		"bare":        {ID: "a", Args: []string{"sh"}, Slot: slot},
		"merged /usr": {ID: "a", Args: []string{"/bin/sh"}, Slot: slot},
		"in a bind":   {ID: "a", Args: []string{"/app/" + filepath.Base(os.Args[0])}, Slot: slot, Binds: []Bind{{Source: dir, Target: "/app"}}},
		"in a root":   {ID: "a", Args: []string{"/" + filepath.Base(os.Args[0])}, Slot: slot, Root: dir},
	} {
		if err := s.validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// A gated container is set up but does not run its app until the gate
// opens; a gate whose container died says so.
func TestContainerGate(t *testing.T) {
	rt, slots := needRuntime(t)
	slot, err := slots.Acquire()
	if err != nil {
		t.Fatal(err)
	}
	defer slot.Release()
	dir := bundleDir(t)
	share := filepath.Join(dir, "share")
	if err := os.Mkdir(share, 0o700); err != nil {
		t.Fatal(err)
	}
	gate := filepath.Join(share, "gate")
	if err := syscall.Mkfifo(gate, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{share, gate} {
		if err := os.Chown(p, int(slot.HostUID(1000)), int(slot.HostUID(1000))); err != nil {
			t.Fatal(err)
		}
	}
	var out lockedBuffer
	id := fmt.Sprintf("test-gate-%d", time.Now().UnixNano())
	c, err := rt.Start(context.Background(), Spec{ID: id, Args: []string{"/bin/echo", "ran"}, UID: 1000, GID: 1000,
		Slot: slot, Binds: []Bind{{Source: share, Target: "/tmp/share"}}, Gate: "/tmp/share/gate"}, dir, &out)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop(time.Second)
	select {
	case <-c.Done():
		t.Fatalf("the app ran before its gate opened: %q", out.String())
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.OpenGate(ctx, gate); err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	if err := c.Err(); err != nil || !strings.Contains(out.String(), "ran") {
		t.Fatalf("%v: %q", err, out.String())
	}
	c.Stop(time.Second)
	assertGone(t, rt, id)
	if err := c.OpenGate(ctx, gate); err == nil {
		t.Error("opened the gate of a container that has gone")
	}
}
