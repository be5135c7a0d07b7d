package natscluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/internal/natscluster"
	"github.com/streamstack/streamstack/internal/natstest"
)

// A stream at R3 outlives the SIGKILL of its leader's node: another node
// leads it with every acknowledged message, and the killed node comes back
// on its files.
func TestKillTheLeaderOfAnR3Stream(t *testing.T) {
	start := time.Now()
	c := natscluster.StartTest(t, natscluster.Options{})
	t.Logf("cluster up in %s", time.Since(start))
	if len(c.Nodes()) != 3 {
		t.Fatalf("%d nodes, want 3", len(c.Nodes()))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	nc, err := nats.Connect(c.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := njs.New(nc)
	s, err := js.CreateStream(ctx, njs.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Replicas: 3, Storage: njs.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := js.Publish(ctx, "t.x", []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	leader := c.NodeNamed(info.Cluster.Leader)
	if leader == nil {
		t.Fatalf("no node named %q leads the stream", info.Cluster.Leader)
	}
	if err := c.Kill(leader); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	var now *njs.StreamInfo
	natstest.CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		// Each try on its own deadline: a request sent while the client
		// reconnects from the killed node may get no answer.
		tryCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		if now, err = s.Info(tryCtx); err != nil {
			return err
		}
		if now.Cluster.Leader == "" || now.Cluster.Leader == leader.Name {
			return fmt.Errorf("leader %q", now.Cluster.Leader)
		}
		return nil
	})
	t.Logf("%s took over from %s in %s", now.Cluster.Leader, leader.Name, time.Since(killed))
	if now.State.Msgs != 10 {
		t.Fatalf("%d messages after the kill, want 10", now.State.Msgs)
	}
	if _, err := js.Publish(ctx, "t.x", []byte{10}); err != nil {
		t.Fatalf("publish after the kill: %v", err)
	}
	if err := c.Restart(ctx, leader); err != nil {
		t.Fatal(err)
	}
}

// Close ends every node and removes the directory it made.
func TestCloseLeavesNothing(t *testing.T) {
	c, err := natscluster.Start(context.Background(), natscluster.Options{Nodes: 3})
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, n := range c.Nodes() {
		pids = append(pids, n.PID())
	}
	dir := c.Dir()
	c.Close()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s still there: %v", dir, err)
	}
	for _, pid := range pids {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			t.Errorf("nats-server %d still running", pid)
		}
	}
}
