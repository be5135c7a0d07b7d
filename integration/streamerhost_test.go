package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/fleet"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
)

// streamersOf are the pids of the streamer processes and streamer hosts
// whose parent is ppid.
func streamersOf(ppid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		if len(args) < 2 || args[1] != "streamer" && args[1] != "streamer-host" {
			continue
		}
		if parentOf(pid) == ppid {
			out = append(out, pid)
		}
	}
	slices.Sort(out)
	return out
}

// parentOf is pid's parent from /proc/PID/stat, 0 when it is gone.
func parentOf(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// pid (comm) state ppid ...: comm may hold spaces, not ')'.
	fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
	if len(fields) < 2 {
		return 0
	}
	ppid, _ := strconv.Atoi(fields[1])
	return ppid
}

// waitGone waits until none of pids runs (a zombie counts as gone).
func waitGone(t *testing.T, pids []int) {
	t.Helper()
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		for _, pid := range pids {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
			if err == nil && !strings.Contains(string(b[strings.LastIndexByte(string(b), ')'):]), ") Z") {
				return fmt.Errorf("pid %d still runs", pid)
			}
		}
		return nil
	})
}

// withHosts runs the stack's streamers on streamer hosts of slots sessions.
func withHosts(slots int) func(*agent.Config) {
	return func(c *agent.Config) {
		c.HostSessions, c.HostSpares = slots, 1
		c.HostCommand = []string{binary, "streamer-host"}
	}
}

// Two sessions share one streamer host (its slots are two) while a spare
// host waits; SIGKILL to the busy host ends both at once, each with the
// host's exit as its reason, and frees their units; a new session then
// streams from the spare, and a new spare is started.
func TestStreamerHostKilledEndsItsSessions(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{agent: withHosts(2)})
	ctx := testCtx(t)
	small := session.Screen{Width: 640, Height: 360, FPS: 30}
	var ids []string
	for range 2 {
		info, peer := st.open(t, ctx, client.CreateRequest{Screen: &small}, client.Options{})
		if err := peer.WaitFrames(ctx, 5); err != nil {
			t.Fatalf("session %s: %v", info.ID, err)
		}
		ids = append(ids, info.ID)
	}
	var busy int
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		hosts := streamersOf(os.Getpid())
		if len(hosts) != 2 {
			return fmt.Errorf("streamer hosts %v, want the busy one and a spare", hosts)
		}
		// The busy host runs the sessions' NATS connections; the spare
		// has none: tell them apart by their sockets.
		busy = 0
		for _, pid := range hosts {
			if sockets(pid) > sockets(hosts[0]+hosts[1]-pid) {
				busy = pid
			}
		}
		if busy == 0 {
			return fmt.Errorf("hosts %v look alike", hosts)
		}
		return nil
	})
	if err := syscall.Kill(busy, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		rec := st.waitStatus(t, id, func(s *session.Session) bool { return s.Status.Ended() })
		if rec.Status != session.StatusError || !strings.Contains(rec.Reason, agent.ErrHostExited.Error()) {
			t.Errorf("session %s ended %s %q, want error with %q", id, rec.Status, rec.Reason, agent.ErrHostExited)
		}
	}
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		agents, err := fleet.List(ctx, st.Res.JS, st.Res.Agents)
		if err != nil || len(agents) != 1 {
			return fmt.Errorf("agents %v %v", agents, err)
		}
		if a := agents[0]; a.Sessions != 0 || a.UsedUnits != 0 {
			return fmt.Errorf("after the host's death: %d sessions, %v units used", a.Sessions, a.UsedUnits)
		}
		return nil
	})
	info, peer := st.open(t, ctx, client.CreateRequest{Screen: &small}, client.Options{})
	if err := peer.WaitFrames(ctx, 5); err != nil {
		t.Fatalf("session %s after the kill: %v", info.ID, err)
	}
	if err := st.api.Delete(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	st.waitStatus(t, info.ID, func(s *session.Session) bool { return s.Status.Ended() })
}

// sockets counts pid's open sockets.
func sockets(pid int) int {
	fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	n := 0
	for _, fd := range fds {
		if l, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", pid, fd.Name())); err == nil && strings.HasPrefix(l, "socket:") {
			n++
		}
	}
	return n
}

// A streamer host's command line and environment hold no session's NATS
// credential (it arrives on the requests pipe), and the pipes are not
// inherited by what its sessions start.
func TestStreamerHostKeepsCredentialsOffItsProcess(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{agent: withHosts(4), natsAuth: true})
	ctx := testCtx(t)
	small := session.Screen{Width: 640, Height: 360, FPS: 30}
	info, peer := st.open(t, ctx, client.CreateRequest{Screen: &small}, client.Options{})
	if err := peer.WaitFrames(ctx, 5); err != nil {
		t.Fatal(err)
	}
	hosts := streamersOf(os.Getpid())
	if len(hosts) != 1 {
		t.Fatalf("streamer hosts %v, want one with a free slot", hosts)
	}
	internal := st.internalURL(t)
	internalPassword, _ := internal.User.Password()
	for what, secret := range map[string]string{"the session's NATS password": st.Tokens.StreamerPassword(info.ID),
		"the internal NATS password": internalPassword} {
		for _, f := range []string{"cmdline", "environ"} {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", hosts[0], f))
			if err != nil {
				t.Fatal(err)
			}
			if secret == "" || strings.Contains(string(b), secret) {
				t.Errorf("%s (%q) is in the host's %s", what, secret, f)
			}
		}
	}
	// Only the standard descriptors and the two pipes cross exec: the
	// pipes are close-on-exec in the host, so its sessions' children
	// never hold the agent's requests.
	for _, fd := range []int{3, 4} {
		info, err := os.ReadFile(fmt.Sprintf("/proc/%d/fdinfo/%d", hosts[0], fd))
		if err != nil {
			t.Fatal(err)
		}
		if !closeOnExec(string(info)) {
			t.Errorf("host descriptor %d is inherited by what the host starts:\n%s", fd, info)
		}
	}
	if err := st.api.Delete(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	st.waitStatus(t, info.ID, func(s *session.Session) bool { return s.Status.Ended() })
}

// closeOnExec reads O_CLOEXEC (02000000, octal) from an fdinfo's flags.
func closeOnExec(fdinfo string) bool {
	for _, line := range strings.Split(fdinfo, "\n") {
		if v, ok := strings.CutPrefix(line, "flags:"); ok {
			flags, err := strconv.ParseUint(strings.TrimSpace(v), 8, 64)
			return err == nil && flags&0o2000000 != 0
		}
	}
	return false
}
