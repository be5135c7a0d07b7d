package gateway

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

// request calls a session service endpoint as the test's admin token and
// decodes the envelope.
func (g *testGW) request(op string, body string) (*nats.Msg, map[string]any) {
	g.t.Helper()
	return g.requestAs(g.tokID, "sessions."+op, body)
}

// requestAs calls endpoint (the subject after the token id) under tokenID.
func (g *testGW) requestAs(tokenID, endpoint, body string) (*nats.Msg, map[string]any) {
	g.t.Helper()
	msg, err := g.env.Conn.Request(subjects.ClientAPI(tokenID)+"."+endpoint, []byte(body), 5*time.Second)
	if err != nil {
		g.t.Fatalf("%s: %v", endpoint, err)
	}
	var env map[string]any
	if err := json.Unmarshal(msg.Data, &env); err != nil {
		g.t.Fatalf("%s answered %q: %v", endpoint, msg.Data, err)
	}
	return msg, env
}

func TestServiceSessionLifecycle(t *testing.T) {
	g := newTestGW(t, func(c *Config) { c.PublicURL = "https://stream.example.com" })
	_, env := g.request("create", `{"app":"test-pattern","screen":{"width":640,"height":360,"fps":30}}`)
	if env["status"] != "success" || env["status_code"] != float64(201) {
		t.Fatalf("create: %v", env)
	}
	meta := env["metadata"].(map[string]any)
	id := meta["id"].(string)
	sig := meta["signaling"].(map[string]any)
	wantSend, _ := subjects.SignalSend(g.tokID, id, sig["conn_id"].(string))
	wantDeliver, _ := subjects.SignalDelivery(g.tokID, sig["conn_id"].(string))
	if sig["send"] != wantSend || sig["deliver"] != wantDeliver {
		t.Fatalf("signaling %v", sig)
	}
	if u, _ := meta["url"].(string); len(u) < 10 || u[:27] != "wss://stream.example.com/1." {
		t.Fatalf("url %q", meta["url"])
	}

	_, env = g.request("get", `{"id":"`+id+`"}`)
	if env["metadata"].(map[string]any)["status"] != string(session.StatusCreated) {
		t.Fatalf("get: %v", env)
	}
	_, env = g.request("list", ``)
	if ids := env["metadata"].([]any); len(ids) != 1 || ids[0] != id {
		t.Fatalf("list: %v", env)
	}
	_, env = g.request("list", `{"recursive":true,"status":"created"}`)
	if recs := env["metadata"].([]any); len(recs) != 1 {
		t.Fatalf("list recursive: %v", env)
	}
	_, env = g.request("join", `{"id":"`+id+`"}`)
	if env["status_code"] != float64(200) {
		t.Fatalf("join: %v", env)
	}
	_, env = g.request("delete", `{"id":"`+id+`"}`)
	if env["metadata"].(map[string]any)["status"] != string(session.StatusTerminated) {
		t.Fatalf("delete: %v", env)
	}
	msg, env := g.request("join", `{"id":"`+id+`"}`)
	if msg.Header.Get(micro.ErrorCodeHeader) != "409" || env["status_code"] != float64(409) {
		t.Fatalf("join after delete: %v %v", msg.Header, env)
	}
}

func TestServiceErrorsCarryMicroHeaders(t *testing.T) {
	g := newTestGW(t)
	for _, tc := range []struct {
		op, body string
		code     int
	}{
		{"create", `{"app":`, 400},
		{"create", `{"screen":{"width":640,"height":360}}`, 400},
		{"create", ``, 400},
		{"get", `{"id":"nosuch"}`, 404},
		{"delete", `{"id":"nosuch"}`, 404},
		{"list", `{"status":"sleeping"}`, 400},
	} {
		msg, env := g.request(tc.op, tc.body)
		if msg.Header.Get(micro.ErrorCodeHeader) != strconv.Itoa(tc.code) || env["status_code"] != float64(tc.code) ||
			env["type"] != "error" || env["error"] == "" || msg.Header.Get(micro.ErrorHeader) == "" {
			t.Errorf("%s %s: headers %v body %v", tc.op, tc.body, msg.Header, env)
		}
	}
}

func TestServiceDiscoverable(t *testing.T) {
	g := newTestGW(t)
	msg, err := g.env.Conn.Request("$SRV.INFO."+ServiceName, nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var info micro.Info
	if err := json.Unmarshal(msg.Data, &info); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range info.Endpoints {
		got[e.Name] = e.Subject
	}
	for _, op := range []string{"create", "get", "list", "join", "delete"} {
		if got[op] != subjects.API+".*.sessions."+op {
			t.Errorf("endpoint %s: %q", op, got[op])
		}
	}
	g.request("list", ``)
	// micro counts a request after its handler has replied: the reply
	// can reach us before the count moves.
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		msg, err := g.env.Conn.Request("$SRV.STATS."+ServiceName, nil, 5*time.Second)
		if err != nil {
			return err
		}
		var stats micro.Stats
		if err := json.Unmarshal(msg.Data, &stats); err != nil {
			return err
		}
		for _, e := range stats.Endpoints {
			if e.Name == "list" && e.NumRequests != 1 {
				return fmt.Errorf("list served %d requests", e.NumRequests)
			}
		}
		return nil
	})
}
