package gateway

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/subjects"
)

// scopedToken makes another API token of the test gateway's store.
func (g *testGW) scopedToken(scope string) auth.Info {
	g.t.Helper()
	_, info, err := g.tokens.CreateScoped(context.Background(), scope+"-token", auth.Options{Scope: scope})
	if err != nil {
		g.t.Fatal(err)
	}
	return info
}

func statusCode(env map[string]any) int {
	code, _ := env["status_code"].(float64)
	return int(code)
}

// A frame sent on a signaling connection is stored for the streamer of
// that connection; a connection id this token did not get from create or
// join is refused, as is a frame over the connection's budget.
func TestServiceSignalStoresOnlyOwnConnections(t *testing.T) {
	g := newTestGW(t)
	_, env := g.request("create", `{"app":"test-pattern"}`)
	meta := env["metadata"].(map[string]any)
	id := meta["id"].(string)
	conn := meta["signaling"].(map[string]any)["conn_id"].(string)

	_, env = g.requestAs(g.tokID, "signal."+id+"."+conn, `{"type":"discover"}`)
	if statusCode(env) != 200 {
		t.Fatalf("send: %v", env)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	to, _ := subjects.Signal(id, subjects.ToStreamer, conn)
	stream, err := g.env.JS.Stream(ctx, subjects.StreamSignal)
	if err != nil {
		t.Fatal(err)
	}
	m, err := stream.GetLastMsgForSubject(ctx, to)
	if err != nil || string(m.Data) != `{"type":"discover"}` {
		t.Fatalf("stored frame %v %v", m, err)
	}

	other := g.scopedToken(auth.ScopeAdmin)
	reader := g.scopedToken(auth.ScopeRead)
	for _, tc := range []struct {
		name, token, endpoint, body string
		want                        int
	}{
		{"another token's id on this connection", other.ID, "signal." + id + "." + conn, `{"type":"discover"}`, 404},
		{"a made-up connection", g.tokID, "signal." + id + ".madeup", `{"type":"discover"}`, 404},
		{"this connection to another session", g.tokID, "signal.other." + conn, `{"type":"discover"}`, 404},
		{"a read-only token", reader.ID, "signal." + id + "." + conn, `{"type":"discover"}`, 403},
		{"garbage", g.tokID, "signal." + id + "." + conn, `not json`, 400},
		{"an unknown token", "nosuchtoken", "sessions.list", ``, 401},
	} {
		if _, env := g.requestAs(tc.token, tc.endpoint, tc.body); statusCode(env) != tc.want {
			t.Errorf("%s: %v, want %d", tc.name, env, tc.want)
		}
	}

	// The connection's budget, as the websocket's: refused with 429.
	frame := `{"type":"candidate","payload":"` + strings.Repeat("a", 60000) + `"}`
	var last map[string]any
	for range 300 {
		if _, last = g.requestAs(g.tokID, "signal."+id+"."+conn, frame); statusCode(last) != 200 {
			break
		}
	}
	if statusCode(last) != 429 {
		t.Fatalf("a flood of frames: %v", last)
	}
}

// events.subscribe delivers a token's events to its inbox; a sessions
// token only those of its own sessions; a token holds a bounded number of
// subscriptions.
func TestServiceEventsSubscribe(t *testing.T) {
	g := newTestGW(t, func(c *Config) { c.NATSEventSubscriptions = 1 })
	_, env := g.request("create", `{"app":"test-pattern"}`)
	id := env["metadata"].(map[string]any)["id"].(string)

	_, env = g.requestAs(g.tokID, subjects.EndpointEvents, `{"from_start":true,"types":["session.created"]}`)
	if statusCode(env) != 200 {
		t.Fatalf("subscribe: %v", env)
	}
	var sub EventsSubscription
	b, _ := json.Marshal(env["metadata"])
	if err := json.Unmarshal(b, &sub); err != nil || !strings.HasPrefix(sub.Deliver, subjects.Inbox(g.tokID)+".") {
		t.Fatalf("subscription %s (%v)", b, err)
	}
	s, err := g.env.Conn.SubscribeSync(sub.Deliver)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Unsubscribe() }()
	m, err := s.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var ev struct{ Type, Subject string }
	if err := json.Unmarshal(m.Data, &ev); err != nil || ev.Subject != id || ev.Type != "io.streamstack.session.created.v1" {
		t.Fatalf("event %s (%v)", m.Data, err)
	}
	if _, env := g.requestAs(g.tokID, subjects.EndpointEvents, `{"types":["session.terminated"]}`); statusCode(env) != 429 {
		t.Fatalf("a second subscription over the cap: %v", env)
	}

	mine := g.scopedToken(auth.ScopeSessions)
	for _, tc := range []struct {
		body string
		want int
	}{
		{`{}`, 403},
		{`{"session":"` + id + `"}`, 404},
	} {
		if _, env := g.requestAs(mine.ID, subjects.EndpointEvents, tc.body); statusCode(env) != tc.want {
			t.Errorf("sessions token, %s: %v, want %d", tc.body, env, tc.want)
		}
	}
	if _, env := g.requestAs(g.tokID, subjects.EndpointEvents, `{"types":["session.>"]}`); statusCode(env) != 400 {
		t.Fatalf("a wildcard type: %v", env)
	}
	cons, err := g.env.JS.PushConsumer(context.Background(), subjects.StreamEvents, sub.Consumer)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := cons.CachedInfo().Config; cfg.AckPolicy != njs.AckNonePolicy || cfg.InactiveThreshold != natsConsumerIdle {
		t.Fatalf("consumer %+v", cfg)
	}
}
