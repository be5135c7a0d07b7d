package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/container"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
)

// A fork bomb held at its container's pids limit and an app killed at its
// memory limit each end their own session with reason "app exceeded its
// limits"; a session beside them streams on, its app alive.
func TestX11AppLimitsEndOnlyThatSession(t *testing.T) {
	if appIsolation(t) != streamer.IsolationContainer {
		t.Skip("limits are the containers' cgroups, which this host cannot run (see the log)")
	}
	checkLeaks(t)
	// A quarter core each: with the victim's one (DefaultLimits) all three
	// fit the agent's app budget of a two-core host.
	forkbomb := apps.App{Name: "forkbomb", Kind: apps.KindX11, Screen: x11Screen,
		Command: []string{"/bin/sh", "-c", "while :; do sleep 30 & done"}, Limits: apps.Limits{Pids: 64, CPU: 0.25}}
	memhog := apps.App{Name: "memhog", Kind: apps.KindX11, Screen: x11Screen,
		Command: []string{"/bin/sh", "-c", "head -c 2G /dev/zero | tail -c 1900M >/dev/null"}, Limits: apps.Limits{MemoryMB: 64, CPU: 0.25}}
	st := startX11Stack(t, forkbomb, memhog)
	ctx := testCtx(t)

	var pic lastPicture
	victim, peer := st.open(t, ctx, client.CreateRequest{App: "paint"}, client.Options{OnFrame: pic.onFrame})
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if m, _ := pic.meanY(100, 100, 16, 16); m < 200 {
			return fmt.Errorf("waiting for the victim's white window (luma %.0f)", m)
		}
		return nil
	})

	var ids []string
	for _, app := range []string{"forkbomb", "memhog"} {
		info, err := st.api.Create(ctx, client.CreateRequest{App: app})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, info.ID)
	}
	for i, id := range ids {
		// The streamer sets the record terminating with its reason; the
		// agent keeps that reason when it finishes the record.
		rec := st.waitStatus(t, id, func(r *session.Session) bool { return r.Status.Ended() })
		t.Logf("%s session %s ended %s: reason %q", []string{"forkbomb", "memhog"}[i], id, rec.Status, rec.Reason)
		if rec.Status != session.StatusTerminated && rec.Status != session.StatusError ||
			!strings.Contains(rec.Reason, streamer.ReasonAppLimits) {
			t.Errorf("%s session %s ended %s with reason %q (%s), want reason %q",
				[]string{"forkbomb", "memhog"}[i], id, rec.Status, rec.Reason, rec.StatusMessage, streamer.ReasonAppLimits)
		}
	}

	// The victim streams on: new frames after both ended, and its app
	// still answers a click.
	_, before := pic.meanY(0, 0, 1, 1)
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if _, at := pic.meanY(0, 0, 1, 1); !at.After(before) {
			return fmt.Errorf("no frame of the victim since %v", before)
		}
		return nil
	})
	const x, y = 300, 200
	sendClick(t, peer, x, y)
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if m, _ := pic.meanY(x-8, y-8, 16, 16); m > 140 { // red is luma 82
			return fmt.Errorf("the victim's app did not paint the click at (%d,%d): luma %.0f", x, y, m)
		}
		return nil
	})
	if rec := st.waitStatus(t, victim.ID, func(*session.Session) bool { return true }); rec.Status.Ended() {
		t.Errorf("the victim's session ended: %s %q", rec.Status, rec.Reason)
	}
}

// A streamer killed outright (SIGKILL: none of its own cleanup runs)
// leaves nothing of its session: no process under the session's uids, no
// runtime state or cgroup of its container, no X socket, no session
// directory; and the session's record ends.
func TestX11StreamerKilledLeavesNothing(t *testing.T) {
	if appIsolation(t) != streamer.IsolationContainer {
		t.Skip("what a killed streamer leaves is its app's container, which this host cannot run (see the log)")
	}
	checkLeaks(t)
	st := startX11Stack(t)
	ctx := testCtx(t)
	var pic lastPicture
	info, _ := st.open(t, ctx, client.CreateRequest{App: "paint"}, client.Options{OnFrame: pic.onFrame})
	id := info.ID
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if m, _ := pic.meanY(100, 100, 16, 16); m < 200 {
			return fmt.Errorf("waiting for the app's white window (luma %.0f)", m)
		}
		return nil
	})

	// The session's processes: its streamer, and below it Xvfb, the sound
	// server, the runtime and the app, which runs in the session's slot
	// of container uids.
	slots := container.DefaultSlots()
	var streamerPid, xvfb, app int
	procs := sessionProcesses()
	for _, s := range childProcesses() {
		pid, _ := strconv.Atoi(s)
		if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid)); err == nil &&
			slices.Contains(strings.Split(string(b), "\x00"), id) {
			streamerPid = pid
		}
	}
	for pid, comm := range procs {
		switch comm {
		case "Xvfb":
			xvfb = pid
		case "x11paint":
			app = pid
		}
	}
	if streamerPid == 0 || xvfb == 0 || app == 0 {
		t.Fatalf("streamer %d, Xvfb %d and x11paint %d among the session's processes %v", streamerPid, xvfb, app, procs)
	}
	var owner syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d", app), &owner); err != nil {
		t.Fatal(err)
	}
	end := uint64(slots.Base) + uint64(slots.Count)*uint64(slots.Size)
	if uint64(owner.Uid) < uint64(slots.Base) || uint64(owner.Uid) >= end {
		t.Fatalf("x11paint runs as uid %d, outside the container uids [%d, %d)", owner.Uid, slots.Base, end)
	}
	// Every uid of the session's slot: what runs under one of them is
	// this session's, no other's.
	slotLo := uint64(slots.Base) + uint64((owner.Uid-slots.Base)/slots.Size)*uint64(slots.Size)
	slotHi := slotLo + uint64(slots.Size)
	socket := xSocketOf(xvfb)
	if socket == "" {
		t.Fatalf("Xvfb (pid %d) listens on no socket under /tmp/.X11-unix", xvfb)
	}
	socketFile, err := os.Lstat(socket)
	if err != nil {
		t.Fatal(err)
	}
	ctrID := streamer.ContainerID(id)
	runcState := filepath.Join(container.DefaultRunDir, "runc", ctrID)
	cgroups := func() []string {
		rel := strings.TrimPrefix(container.CgroupPath(ctrID), "/")
		dirs, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", rel))
		if _, err := os.Stat(filepath.Join("/sys/fs/cgroup", rel)); err == nil {
			dirs = append(dirs, filepath.Join("/sys/fs/cgroup", rel))
		}
		return dirs
	}
	if _, err := os.Stat(runcState); err != nil {
		t.Fatalf("the running container's state %s: %v", runcState, err)
	}
	if len(cgroups()) == 0 {
		t.Fatalf("the running container has no cgroup %s", container.CgroupPath(ctrID))
	}
	// Whatever this test finds, the host is left clean for the next.
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := streamer.DeleteContainer(ctx, streamer.DefaultConfig(), id); err != nil {
			t.Logf("cleanup: %v", err)
		}
		if fi, err := os.Lstat(socket); err == nil && os.SameFile(fi, socketFile) && !alive(xvfb) {
			_ = os.Remove(socket)
		}
	})

	t.Logf("session %s: streamer %d, Xvfb %d (%s), x11paint %d as uid %d (slot uids [%d, %d))",
		id, streamerPid, xvfb, socket, app, owner.Uid, slotLo, slotHi)
	if err := syscall.Kill(streamerPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	waitAllHold(t, 20*time.Second, 20*time.Millisecond, []holds{
		{"no process of the session's container uids", func() error {
			if left := uidProcesses(slotLo, slotHi); len(left) > 0 {
				return fmt.Errorf("processes under uids [%d, %d) left: %v", slotLo, slotHi, left)
			}
			return nil
		}},
		{"no process of the session", func() error {
			for pid, comm := range procs {
				if alive(pid) {
					return fmt.Errorf("%s (pid %d) still running", comm, pid)
				}
			}
			return nil
		}},
		{"no runtime state of the container", func() error {
			if _, err := os.Stat(runcState); err == nil {
				return fmt.Errorf("%s left", runcState)
			}
			return nil
		}},
		{"no cgroup of the container", func() error {
			if dirs := cgroups(); len(dirs) > 0 {
				return fmt.Errorf("%v left", dirs)
			}
			return nil
		}},
		{"no X socket of the display", func() error {
			// The same file: a socket there with another inode is a
			// server's that took the display number since.
			if fi, err := os.Lstat(socket); err == nil && os.SameFile(fi, socketFile) {
				return fmt.Errorf("%s left", socket)
			} else if err == nil {
				t.Logf("%s is another X server's now", socket)
			}
			return nil
		}},
		{"no session directory", func() error {
			if m, _ := filepath.Glob(filepath.Join(os.TempDir(), "streamstack-session-"+id+"-*")); len(m) > 0 {
				return fmt.Errorf("%v left", m)
			}
			return nil
		}},
		{"the record ended", func() error {
			rec, _, err := st.Store.Get(context.Background(), id)
			if err != nil {
				return err
			}
			if !rec.Status.Ended() {
				return fmt.Errorf("session %s is %s (%s) reason %q", id, rec.Status, rec.StatusMessage, rec.Reason)
			}
			return nil
		}},
	})
}

// holds is one condition waitAllHold waits for.
type holds struct {
	what string
	fn   func() error
}

// waitAllHold polls checks every so often until each has held once or
// total has passed, then fails the test with each that never did: one
// leftover does not hide another. A check that held is not asked again:
// what is gone stays gone, and what appears later (a slot's uids taken
// by another session, a pid reused) is not this session's.
func waitAllHold(t *testing.T, total, every time.Duration, checks []holds) {
	t.Helper()
	deadline := time.Now().Add(total)
	held := make([]bool, len(checks))
	for {
		var failed []string
		for i, c := range checks {
			if held[i] {
				continue
			}
			if err := c.fn(); err != nil {
				failed = append(failed, fmt.Sprintf("%s: %v", c.what, err))
			} else {
				held[i] = true
			}
		}
		if len(failed) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, f := range failed {
				t.Errorf("after %s, not %s", total, f)
			}
			t.FailNow()
		}
		time.Sleep(every)
	}
}

// uidProcesses are the processes whose owner (their effective uid, as
// /proc/<pid> shows it) is in [lo, hi), with their names.
func uidProcesses(lo, hi uint64) map[int]string {
	out := map[int]string{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat("/proc/"+e.Name(), &st) != nil || uint64(st.Uid) < lo || uint64(st.Uid) >= hi {
			continue
		}
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		out[pid] = fmt.Sprintf("%s (uid %d)", strings.TrimSpace(string(b)), st.Uid)
	}
	return out
}

// xSocketOf is the Unix socket path the X server whose pid is xvfb
// listens on, found by the inode of one of its descriptors in
// /proc/net/unix (with -displayfd the server writes no lock file that
// would name it); empty when none.
func xSocketOf(xvfb int) string {
	inodes := map[string]bool{}
	fds, _ := filepath.Glob(fmt.Sprintf("/proc/%d/fd/*", xvfb))
	for _, fd := range fds {
		if l, err := os.Readlink(fd); err == nil && strings.HasPrefix(l, "socket:[") {
			inodes[strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")] = true
		}
	}
	for _, s := range unixSockets() {
		if inodes[s[0]] && strings.HasPrefix(s[1], "/tmp/.X11-unix/X") {
			return s[1]
		}
	}
	return ""
}

// unixSockets are the inode and path of every Unix socket bound to a
// path in this network namespace, from /proc/net/unix.
func unixSockets() [][2]string {
	var out [][2]string
	b, _ := os.ReadFile("/proc/net/unix")
	for line := range strings.SplitSeq(string(b), "\n") {
		// Num RefCount Protocol Flags Type St Inode Path
		if f := strings.Fields(line); len(f) == 8 {
			out = append(out, [2]string{f[6], f[7]})
		}
	}
	return out
}
