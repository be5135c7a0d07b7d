package natscluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
)

// Node is one nats-server process of the cluster.
type Node struct {
	// Name is the node's server name (n1, n2, ...): what stream infos name
	// as a leader or replica.
	Name string
	// URL is the node's client URL.
	URL string

	conf, log string
	cmd       *exec.Cmd
	done      chan struct{} // closed once the process has exited
}

// start runs the node's process, its output appended to its log.
func (n *Node) start(bin string) error {
	logFile, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("natscluster: %w", err)
	}
	cmd := exec.Command(bin, "-c", n.conf)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// A test process killed mid-test takes its nodes with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("natscluster: start %s: %w", n.Name, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(done)
	}()
	n.cmd, n.done = cmd, done
	return nil
}

func (n *Node) running() bool {
	if n.done == nil {
		return false
	}
	select {
	case <-n.done:
		return false
	default:
		return true
	}
}

// kill sends SIGKILL and waits for the exit; a node not running is left be.
func (n *Node) kill() error {
	if !n.running() {
		return nil
	}
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("natscluster: kill %s: %w", n.Name, err)
	}
	<-n.done
	return nil
}

// PID is the process id of the node's running process, 0 when none runs.
func (n *Node) PID() int {
	if !n.running() {
		return 0
	}
	return n.cmd.Process.Pid
}

// Log is what the node has logged so far, for a failing test to show.
func (n *Node) Log() string {
	b, _ := os.ReadFile(n.log)
	return string(b)
}

// WaitReady waits until every running node answers JetStream requests,
// which it does once the cluster has a meta leader.
func (c *Cluster) WaitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.ReadyTimeout)
	defer cancel()
	for _, n := range c.nodes {
		if !n.running() {
			continue
		}
		if err := n.waitReady(ctx); err != nil {
			return fmt.Errorf("%w: %s: %w\n%s", ErrNotReady, n.Name, err, tail(n.Log(), 2000))
		}
	}
	if err := c.waitPlacement(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrNotReady, err)
	}
	return nil
}

// waitPlacement waits until the meta leader can place a stream on every
// running node: it answers JetStream requests as soon as it is elected,
// but "no suitable peers for placement" until it has heard from each
// peer, so a test's first R3 stream could fail right after WaitReady.
func (c *Cluster) waitPlacement(ctx context.Context) error {
	var urls []string
	for _, n := range c.nodes {
		if !n.running() {
			// A node down (a test's kill): the meta leader may still
			// count it; placement is the test's to wait for then.
			return nil
		}
		urls = append(urls, n.URL)
	}
	nc, err := nats.Connect(strings.Join(urls, ","), nats.Name("natscluster-placement"))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := njs.New(nc)
	if err != nil {
		return err
	}
	cfg := njs.StreamConfig{Name: "NATSCLUSTER_PROBE", Subjects: []string{"natscluster.probe"},
		Storage: njs.MemoryStorage, Replicas: len(urls)}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := js.CreateOrUpdateStream(ctx, cfg)
		if err == nil {
			return js.DeleteStream(ctx, cfg.Name)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("placing an R%d stream: %w (last: %w)", len(urls), ctx.Err(), err)
		case <-tick.C:
		}
	}
}

func (n *Node) waitReady(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		err := n.jetStreamReady(ctx)
		if err == nil {
			return nil
		}
		select {
		case <-n.done:
			return errors.New("exited")
		case <-ctx.Done():
			return fmt.Errorf("%w (last: %w)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

// jetStreamReady asks the node alone (no reconnects to others) for the
// account's JetStream info.
func (n *Node) jetStreamReady(ctx context.Context) error {
	nc, err := nats.Connect(n.URL, nats.NoReconnect(), nats.DontRandomize(), nats.Timeout(time.Second), nats.Name("natscluster-ready"))
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := njs.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err = js.AccountInfo(ctx)
	return err
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
