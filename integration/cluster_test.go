package integration

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/gateway"
	"github.com/streamstack/streamstack/internal/localstack"
	"github.com/streamstack/streamstack/internal/natscluster"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

// The streams a create writes or reads: the API token, the record, the
// placement request, the created event.
var createStreams = []string{"KV_" + subjects.BucketTokens, "KV_" + subjects.BucketSessions, subjects.StreamRequests, subjects.StreamEvents}

// clusterGateway is a gateway (no agent) on one node of a real cluster.
type clusterGateway struct {
	node *natscluster.Node
	st   *localstack.Stack
	api  *client.Gateway
}

func startClusterGateway(t *testing.T, node *natscluster.Node, limits jetstream.Limits, token string) *clusterGateway {
	t.Helper()
	gcfg := gateway.DefaultConfig()
	gcfg.HTTPAddr = "127.0.0.1:0"
	st, err := localstack.Start(context.Background(), localstack.Options{
		NATSURL: node.URL, NoAgent: true, Gateway: gcfg, Limits: limits, Source: "cluster-" + node.Name,
		// The 503s while a stream elects a leader are expected, and many.
		Log: slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("gateway on %s: %v", node.Name, err)
		}
	})
	if _, err := st.Tokens.Ensure(context.Background(), "cluster-test", token); err != nil {
		t.Fatal(err)
	}
	return &clusterGateway{node: node, st: st, api: &client.Gateway{BaseURL: strings.TrimSuffix(st.URL, "/"), Token: token}}
}

// On a real 3-node nats-server cluster at R3 (--replicas 3), SIGKILL of the
// node leading each stream a create touches, one after the other: creates
// through a gateway on a surviving node succeed again within a (generous)
// deadline, and every create that was answered 201 has its record, its
// placement request and its created event afterwards.
func TestClusterR3SurvivesLeaderKills(t *testing.T) {
	checkLeaks(t)
	c := natscluster.StartTest(t, natscluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	limits := jetstream.DefaultLimits()
	limits.Replicas = 3
	const token = "cluster-test-token-0123456789"
	gws := []*clusterGateway{startClusterGateway(t, c.Node(0), limits, token), startClusterGateway(t, c.Node(1), limits, token)}
	nc, err := nats.Connect(c.URL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := njs.New(nc)
	for _, name := range append(createStreams, subjects.StreamSignal, "KV_"+subjects.BucketAgents) {
		if r := streamInfo(t, ctx, js, name).Config.Replicas; r != 3 {
			t.Fatalf("%s has %d replicas, want 3", name, r)
		}
	}

	var acked []string
	create := func(gw *clusterGateway, timeout time.Duration) error {
		tryCtx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		info, err := gw.api.Create(tryCtx, client.CreateRequest{App: "test-pattern", Region: "no-agent-here"})
		if err != nil {
			return err
		}
		acked = append(acked, info.ID)
		return nil
	}
	for _, gw := range gws {
		for range 5 {
			if err := create(gw, 15*time.Second); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, stream := range createStreams {
		leader := c.NodeNamed(streamInfo(t, ctx, js, stream).Cluster.Leader)
		if leader == nil {
			t.Fatalf("%s has no leader", stream)
		}
		gw := gws[0]
		if gw.node == leader {
			gw = gws[1]
		}
		if err := c.Kill(leader); err != nil {
			t.Fatal(err)
		}
		killed := time.Now()
		// Tries of 2 s each: one sent before the election would otherwise
		// wait out the gateway's --request-timeout (10 s), hiding when
		// creates work again. A try given up may still be stored; only
		// those answered 201 are checked.
		natstest.CheckFor(t, 60*time.Second, 20*time.Millisecond, func() error { return create(gw, 2*time.Second) })
		t.Logf("%s: leader %s killed; the first create through the gateway on %s answered after %s", stream, leader.Name, gw.node.Name, time.Since(killed).Round(time.Millisecond))
		for range 5 {
			if err := create(gw, 15*time.Second); err != nil {
				t.Fatalf("a create after %s took over %s: %v", streamInfo(t, ctx, js, stream).Cluster.Leader, stream, err)
			}
		}
		if err := c.Restart(ctx, leader); err != nil {
			t.Fatal(err)
		}
		waitCurrent(t, ctx, js)
	}

	events, err := js.Stream(ctx, subjects.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	requests, err := js.Stream(ctx, subjects.StreamRequests)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range acked {
		if rec, _, err := gws[0].st.Store.Get(ctx, id); err != nil || rec.Status != session.StatusCreated {
			t.Errorf("session %s answered 201: record %+v, %v", id, rec, err)
		}
		ev, _ := subjects.Event(id, strings.TrimSuffix(session.EventCreated, ".v1"))
		if _, err := events.GetLastMsgForSubject(ctx, ev); err != nil {
			t.Errorf("session %s answered 201: created event: %v", id, err)
		}
		req, _ := subjects.Request(id)
		if _, err := requests.GetLastMsgForSubject(ctx, req); err != nil {
			t.Errorf("session %s answered 201: placement request: %v", id, err)
		}
	}
	t.Logf("%d creates answered 201, every one stored", len(acked))
}

func streamInfo(t *testing.T, ctx context.Context, js njs.JetStream, name string) *njs.StreamInfo {
	t.Helper()
	var info *njs.StreamInfo
	natstest.CheckFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		tryCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		s, err := js.Stream(tryCtx, name)
		if err != nil {
			return err
		}
		info = s.CachedInfo()
		if info.Cluster == nil || info.Cluster.Leader == "" {
			return fmt.Errorf("%s has no leader", name)
		}
		return nil
	})
	return info
}

// waitCurrent waits until every replica of every stream of the stack has
// caught up, so that the next kill leaves a quorum of current copies.
func waitCurrent(t *testing.T, ctx context.Context, js njs.JetStream) {
	t.Helper()
	for _, name := range append(createStreams, subjects.StreamSignal, "KV_"+subjects.BucketAgents) {
		natstest.CheckFor(t, 60*time.Second, 20*time.Millisecond, func() error {
			info := streamInfo(t, ctx, js, name)
			if n := len(info.Cluster.Replicas); n != 2 {
				return fmt.Errorf("%s: %d followers", name, n)
			}
			for _, r := range info.Cluster.Replicas {
				if !r.Current || r.Offline {
					return fmt.Errorf("%s: replica %s not current (lag %d)", name, r.Name, r.Lag)
				}
			}
			return nil
		})
	}
}
