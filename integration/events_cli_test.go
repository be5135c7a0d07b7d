package integration

import (
	"bufio"
	"encoding/json"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/session"
)

// eventsCLI is a running `streamstack events` child process.
type eventsCLI struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines chan string
	ready chan struct{}
	done  chan error
	once  sync.Once
}

// startEventsCLI runs `streamstack events` against the stack's NATS and
// waits until it follows the stream.
func (s *stack) startEventsCLI(t *testing.T, args ...string) *eventsCLI {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"events", "--nats-url", s.NATSURL}, args...)...)
	cmd.Env = os.Environ()
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &eventsCLI{t: t, cmd: cmd, lines: make(chan string, 1000), ready: make(chan struct{}), done: make(chan error, 1)}
	piped := make(chan struct{}, 2)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			c.lines <- sc.Text()
		}
		piped <- struct{}{}
	}()
	go func() {
		sc := bufio.NewScanner(stderr)
		readied := false
		for sc.Scan() {
			if !readied && strings.HasPrefix(sc.Text(), "following lifecycle events") {
				readied = true
				close(c.ready)
				continue
			}
			t.Logf("events: %s", sc.Text())
		}
		piped <- struct{}{}
	}()
	go func() {
		<-piped
		<-piped
		c.done <- cmd.Wait()
	}()
	t.Cleanup(func() { c.stop() })
	select {
	case <-c.ready:
	case err := <-c.done:
		t.Fatalf("streamstack events exited: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("streamstack events did not start following")
	}
	return c
}

// next waits for the next line printed.
func (c *eventsCLI) next() string {
	c.t.Helper()
	select {
	case l := <-c.lines:
		return l
	case <-time.After(20 * time.Second):
		c.t.Fatal("no event printed within 20s")
		return ""
	}
}

// stop interrupts the process as a person would and checks it exits
// cleanly.
func (c *eventsCLI) stop() { c.once.Do(c.interrupt) }

func (c *eventsCLI) interrupt() {
	_ = c.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-c.done:
		if err != nil {
			c.t.Errorf("streamstack events: %v", err)
		}
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
		c.t.Error("streamstack events did not exit on interrupt")
	}
}

func TestEventsCommandPrintsASession(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{})
	ctx := testCtx(t)
	// From now, every type but stats, as JSON.
	cli := st.startEventsCLI(t, "--json", "--type", "created,placed,active,client_connected,client_disconnected,terminating,terminated,error")

	small := session.Screen{Width: 640, Height: 360, FPS: 30}
	info, peer := st.open(t, ctx, client.CreateRequest{Screen: &small}, client.Options{})
	if err := peer.WaitFrames(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if err := st.api.Delete(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	var types []string
	ids := map[string]bool{}
	for {
		var ev session.Event
		line := cli.next()
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("not an event: %q: %v", line, err)
		}
		if ev.Subject != info.ID || ev.SpecVersion != "1.0" || ids[ev.ID] {
			t.Fatalf("unexpected event %s", line)
		}
		ids[ev.ID] = true
		types = append(types, strings.TrimPrefix(ev.Type, session.CloudEventsPrefix))
		if ev.Type == session.CloudEventsPrefix+session.EventTerminated {
			break
		}
	}
	want := []string{session.EventCreated, session.EventPlaced, session.EventActive, session.EventClientConnected, session.EventTerminating, session.EventTerminated}
	var got []string
	for _, typ := range types {
		if slices.Contains(want, typ) {
			got = append(got, typ)
		}
	}
	if !slices.Equal(got, want) || slices.Contains(types, session.EventStats) {
		t.Fatalf("printed %v, want %v in order (and no stats)", types, want)
	}
	cli.stop()
}

func TestEventsCommandDurableContinues(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{noAgent: true})
	ctx := testCtx(t)
	create := func() string {
		t.Helper()
		info, err := st.api.Create(ctx, client.CreateRequest{App: "paint"})
		if err != nil {
			t.Fatal(err)
		}
		return info.ID
	}
	first := create()
	args := []string{"--durable", "audit", "--from-start", "--type", "created", "--app", "paint"}
	cli := st.startEventsCLI(t, args...)
	line := cli.next()
	if f := strings.Fields(line); len(f) < 4 || f[1] != "created" || f[2] != first || f[3] != "created" {
		t.Fatalf("line %q", line)
	}
	cli.stop()

	// Created while it was stopped; the same command line continues there.
	second := create()
	cli = st.startEventsCLI(t, args...)
	if f := strings.Fields(cli.next()); len(f) < 3 || f[2] != second {
		t.Fatalf("resumed at %v, want %s", f, second)
	}
	third := create()
	if f := strings.Fields(cli.next()); len(f) < 3 || f[2] != third {
		t.Fatalf("then %v, want %s", f, third)
	}
	cli.stop()
}
