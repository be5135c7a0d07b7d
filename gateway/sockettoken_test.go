package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/coder/websocket"

	"github.com/streamstack/streamstack/internal/natstest"
)

// joinURL joins session id and returns the websocket URL the join answers.
func (g *testGW) joinURL(id string) string {
	g.t.Helper()
	var j created
	g.call(http.MethodPost, "/1.0/sessions/"+id+"/join", nil).ok(g.t, http.StatusOK, &j)
	return j.URL
}

// A session URL opens one websocket: a second use is refused with 409
// before its upgrade and the first connection is untouched; a join answers
// a URL that works once and replaces every earlier one; the record says
// which connection used the token.
func TestSessionURLOpensOneWebsocket(t *testing.T) {
	g := newTestGW(t)
	c := g.create(map[string]any{"app": "x", "joinable": true})
	first := g.dial(c.URL)
	writeFrame(t, first, `{"type":"one"}`)
	st := g.streamer(c.ID)
	_, conn1 := st.next()

	g.dialFails(c.URL).fails(t, http.StatusConflict, "already used", "join the session for a new one")
	// The first connection still relays both ways.
	writeFrame(t, first, `{"type":"still"}`)
	if data, conn := st.next(); string(data) != `{"type":"still"}` || conn != conn1 {
		t.Fatalf("streamer got %s from %s, want the first connection's frame", data, conn1)
	}
	g.sendToClient(c.ID, conn1, []byte(`{"type":"to-first"}`))
	if got := readFrame(t, first); string(got) != `{"type":"to-first"}` {
		t.Fatalf("first client got %s", got)
	}
	rec, _, err := g.store.Get(context.Background(), c.ID)
	if err != nil || rec.Socket == nil || rec.Socket.UsedBy != conn1 || rec.Socket.UsedAt.IsZero() {
		t.Fatalf("record's socket token %+v (%v), want used by %s", rec.Socket, err, conn1)
	}

	// Two joins: the later URL replaces the earlier, used or not.
	older, newer := g.joinURL(c.ID), g.joinURL(c.ID)
	g.dialFails(older).fails(t, http.StatusConflict, "replaced by a later join")
	g.dialFails(c.URL).fails(t, http.StatusConflict, "replaced by a later join")
	second := g.dial(newer)
	writeFrame(t, second, `{"type":"two"}`)
	if _, conn2 := st.next(); conn2 == conn1 {
		t.Fatal("the joined websocket has the first one's connection id")
	}
	g.dialFails(newer).fails(t, http.StatusConflict, "already used")
}

// What is no websocket handshake, or comes from a foreign origin, is
// refused without spending the URL: a link preview fetching it must not
// lock its viewer out.
func TestSessionURLNotSpentOnRefusals(t *testing.T) {
	g := newTestGW(t)
	c := g.create(nil)
	httpURL := strings.Replace(c.URL, "ws://", "http://", 1)
	resp, err := http.Get(httpURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired || resp.Header.Get("Upgrade") != "websocket" {
		t.Fatalf("plain GET answered %d, Upgrade %q", resp.StatusCode, resp.Header.Get("Upgrade"))
	}
	ctx := context.Background()
	_, resp, err = websocket.Dial(ctx, c.URL, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {"https://evil.example"}}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("foreign origin: %v, %v", resp, err)
	}
	ws := g.dial(c.URL)
	writeFrame(t, ws, `{"type":"hello"}`)
	expectStreamerFrame(t, g, c.ID, `{"type":"hello"}`)
}

// Websockets racing with one URL, through two gateways of one NATS:
// exactly one gets in, every other is refused with 409. (No per-session
// cap: racers holding its slots until they are refused would be 429.)
func TestSessionURLRaceAcrossGateways(t *testing.T) {
	env := natstest.Start(t)
	noCap := func(c *Config) { c.WSMaxPerSession = 0 }
	g1, g2 := newTestGWOn(t, env, noCap), newTestGWOn(t, env, noCap)
	c := g1.create(nil)
	urls := []string{c.URL, g2.urlOn(g1, c.URL)}
	const n = 8
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		opened   []*websocket.Conn
		refusals []string
	)
	for i := range n {
		wg.Go(func() {
			conn, resp, err := websocket.Dial(context.Background(), urls[i%2], nil)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				opened = append(opened, conn)
			case resp != nil:
				refusals = append(refusals, fmt.Sprint(resp.StatusCode))
			default:
				refusals = append(refusals, err.Error())
			}
		})
	}
	wg.Wait()
	for _, c := range opened {
		t.Cleanup(func() { _ = c.CloseNow() })
	}
	if len(opened) != 1 {
		t.Fatalf("%d websockets opened with one URL, refusals %v", len(opened), refusals)
	}
	for _, r := range refusals {
		if r != "409" {
			t.Fatalf("refusals %v, want all 409", refusals)
		}
	}
	writeFrame(t, opened[0], `{"type":"winner"}`)
	expectStreamerFrame(t, g1, c.ID, `{"type":"winner"}`)
}
