package agent_test

import (
	"context"
	"flag"
	"fmt"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/internal/hostproto"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/promtest"
	"github.com/streamstack/streamstack/session"
)

// TestMain lets this test binary be a streamer host for the agent's pool
// (fakeHost): the agent's bookkeeping of hosts is what these tests check;
// a real host streaming real sessions is tested in integration/.
func TestMain(m *testing.M) {
	if os.Getenv("STREAMSTACK_TEST_FAKE_HOST") != "" {
		os.Exit(fakeHost())
	}
	os.Exit(m.Run())
}

// fakeHost speaks the host's protocol: a session or warm app runs until
// it is asked to stop, except a session whose id starts with "stuck",
// which never does, and a warm app of the app "broken", which fails at
// once. It logs "pid op id warm" for each run and warm request to
// STREAMSTACK_TEST_FAKE_HOST.
func fakeHost() int {
	fs := flag.NewFlagSet("fake-host", flag.ContinueOnError)
	fs.String("agent", "", "")
	fs.Int("sessions", 0, "")
	reqFD := fs.Int("requests-fd", 0, "")
	evFD := fs.Int("events-fd", 0, "")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	logf, err := os.OpenFile(os.Getenv("STREAMSTACK_TEST_FAKE_HOST"), os.O_APPEND|os.O_WRONLY|os.O_CREATE, 0o600)
	if err != nil {
		return 1
	}
	defer logf.Close()
	r := hostproto.NewReader(os.NewFile(uintptr(*reqFD), "requests"))
	w := hostproto.NewWriter(os.NewFile(uintptr(*evFD), "events"))
	_ = w.Write(hostproto.Event{HostReady: true})
	for {
		req, err := r.ReadRequest()
		if err != nil {
			return 0
		}
		switch {
		case req.Op == hostproto.OpRun && strings.HasPrefix(req.Session, "hostile"):
			// A host taken over by a session's peer: it claims another
			// session ended, then writes what is not an event.
			_ = w.Write(hostproto.Event{Session: "someone-else"})
			fmt.Fprintf(os.NewFile(uintptr(*evFD), "events"), "{\"op\":\"run\"}garbage\n")
		case req.Op == hostproto.OpRun || req.Op == hostproto.OpWarm:
			fmt.Fprintf(logf, "%d %s %s %s\n", os.Getpid(), req.Op, req.Session, req.Warm)
			switch {
			case req.App == "broken":
				_ = w.Write(hostproto.Event{Session: req.Session, Error: "broken app"})
			case req.Op == hostproto.OpWarm:
				_ = w.Write(hostproto.Event{Session: req.Session, Ready: true})
			}
		case !strings.HasPrefix(req.Session, "stuck"):
			_ = w.Write(hostproto.Event{Session: req.Session})
		}
	}
}

type hostFixture struct {
	*fixture
	log     string
	metrics string
}

func startHosts(t *testing.T, slots int, tweaks ...func(*agent.Config)) *hostFixture {
	t.Helper()
	log := t.TempDir() + "/runs"
	f := startAgent(t, "exit 1", func(c *agent.Config) {
		c.HostSessions, c.HostSpares = slots, 1
		c.HostCommand = []string{os.Args[0]}
		c.StreamerEnv = append(c.StreamerEnv, "STREAMSTACK_TEST_FAKE_HOST="+log)
		c.Cores, c.UnitsPerCore = 1, 8
		for _, tweak := range tweaks {
			tweak(c)
		}
	})
	reg := prometheus.NewRegistry()
	reg.MustRegister(f.agent.Collector())
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	return &hostFixture{fixture: f, log: log, metrics: srv.URL}
}

// waitHosts waits until the agent runs hosts hosts with free free slots.
func (f *hostFixture) waitHosts(t *testing.T, hosts, free float64) {
	t.Helper()
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		m, err := promtest.TryScrape(f.metrics)
		if err != nil {
			return err
		}
		h, _ := m.Value("streamstack_agent_streamer_hosts")
		s, _ := m.Value("streamstack_agent_streamer_host_free_slots")
		if h != hosts || s != free {
			return fmt.Errorf("%v hosts with %v free slots, want %v with %v", h, s, hosts, free)
		}
		return nil
	})
}

// request is one run or warm request a fake host got.
type request struct {
	pid          int
	op, id, warm string
}

// requests reads what the fake hosts were asked, in order.
func (f *hostFixture) requests(t *testing.T) []request {
	t.Helper()
	b, err := os.ReadFile(f.log)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	var out []request
	for _, line := range strings.Split(string(b), "\n") {
		fields := strings.Split(line, " ")
		if len(fields) != 4 {
			continue
		}
		pid, _ := strconv.Atoi(fields[0])
		out = append(out, request{pid: pid, op: fields[1], id: fields[2], warm: fields[3]})
	}
	return out
}

// runs reads which host process each session was handed to.
func (f *hostFixture) runs(t *testing.T) map[string][]int {
	t.Helper()
	out := map[string][]int{}
	for _, r := range f.requests(t) {
		if r.op == hostproto.OpRun {
			out[r.id] = append(out[r.id], r.pid)
		}
	}
	return out
}

// sharedHost waits until sessions a and b run and returns the pid of the
// host they share.
func (f *hostFixture) sharedHost(t *testing.T, a, b string) int {
	t.Helper()
	var pid int
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		runs := f.runs(t)
		if len(runs[a]) != 1 || len(runs[b]) != 1 || runs[a][0] != runs[b][0] {
			return fmt.Errorf("runs %v, want %s and %s on one host", runs, a, b)
		}
		pid = runs[a][0]
		return nil
	})
	return pid
}

func (f *hostFixture) end(t *testing.T, id string) {
	t.Helper()
	if _, err := f.store.Update(context.Background(), id, func(s *session.Session) error {
		s.Status, s.Reason = session.StatusTerminating, session.ReasonDeleted
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func placed(s *session.Session) bool { return s.Agent != "" }

func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	return err == nil && !strings.Contains(string(b), ") Z ")
}

// Hosts fill up before another starts, one host with a free slot is kept
// ahead of requests, every session goes to exactly one host, and emptied
// hosts beyond the spare exit.
func TestHostsPackSessionsAndKeepASpare(t *testing.T) {
	f := startHosts(t, 2)
	f.waitHosts(t, 1, 2) // the spare, before any session
	var ids []string
	for range 3 {
		id := f.create(t)
		f.waitFor(t, id, placed)
		ids = append(ids, id)
	}
	// 2 on the first host, 1 on the second, which is the spare now.
	f.waitHosts(t, 2, 1)
	var runs map[string][]int
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		runs = f.runs(t)
		if len(runs) != 3 {
			return fmt.Errorf("runs %v", runs)
		}
		return nil
	})
	perHost := map[int]int{}
	for _, id := range ids {
		if len(runs[id]) != 1 {
			t.Fatalf("session %s handed to hosts %v", id, runs[id])
		}
		perHost[runs[id][0]]++
	}
	if len(perHost) != 2 || perHost[runs[ids[0]][0]] != 2 {
		t.Fatalf("sessions per host %v, want the first host full", perHost)
	}
	for _, id := range ids {
		f.end(t, id)
	}
	for _, id := range ids {
		f.waitFor(t, id, func(s *session.Session) bool { return s.Status == session.StatusTerminated })
	}
	f.waitUsed(t, 0)
	f.waitHosts(t, 1, 2)
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		n := 0
		for pid := range perHost {
			if alive(pid) {
				n++
			}
		}
		if n != 1 {
			return fmt.Errorf("%d of the hosts %v run, want the spare alone", n, perHost)
		}
		return nil
	})
}

// SIGKILL to a host ends its sessions at once, each with the host's exit
// as its reason, and frees their units; the next session gets a host.
func TestHostKilledEndsItsSessionsAtOnce(t *testing.T) {
	f := startHosts(t, 2)
	a, b := f.create(t), f.create(t)
	f.waitFor(t, a, placed)
	f.waitFor(t, b, placed)
	pid := f.sharedHost(t, a, b)
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{a, b} {
		s := f.waitFor(t, id, func(s *session.Session) bool { return s.Status.Ended() })
		if s.Status != session.StatusError || !strings.Contains(s.Reason, agent.ErrHostExited.Error()) {
			t.Errorf("session %s ended %s %q", id, s.Status, s.Reason)
		}
	}
	f.waitUsed(t, 0)
	c := f.create(t)
	f.waitFor(t, c, placed)
	f.end(t, c)
	f.waitFor(t, c, func(s *session.Session) bool { return s.Status.Ended() })
}

// A session that does not stop is given up after StopTimeout twice; its
// host takes no new session and is killed once its other session ended.
func TestStuckSessionDrainsItsHost(t *testing.T) {
	f := startHosts(t, 2)
	stuck := f.createID(t, "stuck"+session.NewID())
	f.waitFor(t, stuck, placed)
	other := f.create(t)
	f.waitFor(t, other, placed)
	pid := f.sharedHost(t, stuck, other)
	f.end(t, stuck)
	f.waitFor(t, stuck, func(s *session.Session) bool { return s.Status == session.StatusTerminated })
	next := f.create(t)
	f.waitFor(t, next, placed)
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if runs := f.runs(t); len(runs[next]) != 1 || runs[next][0] == pid {
			return fmt.Errorf("the next session went to %v, the draining host is %d", runs[next], pid)
		}
		return nil
	})
	if !alive(pid) {
		t.Fatal("the draining host died while its other session ran")
	}
	f.end(t, other)
	f.waitFor(t, other, func(s *session.Session) bool { return s.Status == session.StatusTerminated })
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		if alive(pid) {
			return fmt.Errorf("drained host %d still runs", pid)
		}
		return nil
	})
	f.end(t, next)
	f.waitFor(t, next, func(s *session.Session) bool { return s.Status.Ended() })
}

// A host is not trusted beyond saying which of its own sessions ended: an
// end it claims for a session it does not run changes nothing, and a line
// that is not an event gets it killed, its sessions ended at once with the
// host's exit as their reason; the session elsewhere streams on.
func TestHostileHostIsKilled(t *testing.T) {
	f := startHosts(t, 1)
	other := f.create(t)
	f.waitFor(t, other, placed)
	hostile := f.createID(t, "hostile"+session.NewID())
	s := f.waitFor(t, hostile, func(s *session.Session) bool { return s.Status.Ended() })
	if s.Status != session.StatusError || !strings.Contains(s.Reason, agent.ErrHostExited.Error()) {
		t.Fatalf("session on the hostile host ended %s %q", s.Status, s.Reason)
	}
	if o, _, err := f.store.Get(context.Background(), other); err != nil || o.Status.Ended() {
		t.Fatalf("the session on another host: %+v %v", o, err)
	}
	f.end(t, other)
	f.waitFor(t, other, func(s *session.Session) bool { return s.Status.Ended() })
}
