package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/streamstack/streamstack/internal/natstest"
	sjs "github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

func TestSocketRelaysBothWays(t *testing.T) {
	g := newTestGW(t)
	c := g.create(nil)
	ws := g.dial(c.URL)

	offer := `{"type":"offer","sdp":"v=0\r\no=- 46117317 2 IN IP4 127.0.0.1\r\ns=-\r\n"}`
	writeFrame(t, ws, offer)
	st := g.streamer(c.ID)
	data, connID := st.next()
	if string(data) != offer {
		t.Fatalf("streamer got %q, want %q", data, offer)
	}
	if !subjects.ValidToken(connID) {
		t.Fatalf("conn id %q", connID)
	}

	// The streamer's frames reach the client byte for byte, in order.
	answers := [][]byte{
		[]byte(`{"type":"answer",  "sdp":"v=0\r\n\u00e9", "extra":[1,2,3]}`),
		[]byte(`{"type":"candidate","candidate":"candidate:1 1 udp 2122260223 10.0.0.1 5000 typ host"}`),
		[]byte(`not even JSON: the gateway does not look`),
	}
	for _, a := range answers {
		g.sendToClient(c.ID, connID, a)
	}
	for _, a := range answers {
		if got := readFrame(t, ws); string(got) != string(a) {
			t.Fatalf("client got %q, want %q", got, a)
		}
	}

	// More client frames, in order, on the same connection's subject.
	for i := range 5 {
		writeFrame(t, ws, fmt.Sprintf(`{"type":"candidate","n":%d}`, i))
	}
	for i := range 5 {
		data, conn := st.next()
		if want := fmt.Sprintf(`{"type":"candidate","n":%d}`, i); string(data) != want || conn != connID {
			t.Fatalf("frame %d: %s from %s, want %s from %s", i, data, conn, want, connID)
		}
	}
}

func TestSocketFramesWaitInJetStream(t *testing.T) {
	g := newTestGW(t)
	c := g.create(nil)
	ws := g.dial(c.URL)
	// The client talks before any streamer listens.
	for i := range 3 {
		writeFrame(t, ws, fmt.Sprintf(`{"type":"early","n":%d}`, i))
	}
	// The last frame is stored once a frame sent after it is answered:
	// the gateway acks each publish before reading the next frame.
	writeFrame(t, ws, `{"type":""}`)
	expectErrorFrame(t, ws, "must not be empty")
	_ = ws.Close(websocket.StatusNormalClosure, "ice connected")

	st := g.streamer(c.ID)
	for i := range 3 {
		if data, _ := st.next(); string(data) != fmt.Sprintf(`{"type":"early","n":%d}`, i) {
			t.Fatalf("frame %d: %s", i, data)
		}
	}
}

func TestSocketClientCloseEndsNothing(t *testing.T) {
	g := newTestGW(t)
	c := g.create(nil)
	ws := g.dial(c.URL)
	writeFrame(t, ws, `{"type":"offer"}`)
	g.streamer(c.ID).next()
	if err := ws.Close(websocket.StatusNormalClosure, "ice connected"); err != nil {
		t.Fatal(err)
	}
	// The gateway stops and deletes its consumer; the session lives on.
	natstest.CheckFor(t, 5*time.Second, 10*time.Millisecond, func() error {
		return noClientConsumers(g)
	})
	s, _, err := g.store.Get(context.Background(), c.ID)
	if err != nil || s.Status != session.StatusCreated {
		t.Fatalf("session after the client left: %+v %v", s, err)
	}
	// A new connection, through a join, works.
	ws2 := g.dial(g.joinURL(c.ID))
	writeFrame(t, ws2, `{"type":"again"}`)
	expectStreamerFrame(t, g, c.ID, `{"type":"again"}`)
}

// noClientConsumers reports a consumer of client frames left on the
// signaling stream.
func noClientConsumers(g *testGW) error {
	ctx := context.Background()
	stream, err := g.env.JS.Stream(ctx, subjects.StreamSignal)
	if err != nil {
		return err
	}
	lister := stream.ListConsumers(ctx)
	for info := range lister.Info() {
		filters := append([]string{info.Config.FilterSubject}, info.Config.FilterSubjects...)
		for _, f := range filters {
			if strings.Contains(f, "."+subjects.ToClient+".") {
				return fmt.Errorf("consumer %s on %s still there", info.Name, f)
			}
		}
	}
	return lister.Err()
}

// expectStreamerFrame waits for want among the session's frames.
func expectStreamerFrame(t *testing.T, g *testGW, id, want string) {
	t.Helper()
	st := g.streamer(id)
	for {
		if data, _ := st.next(); string(data) == want {
			return
		}
	}
}

func TestSocketRefusals(t *testing.T) {
	g := newTestGW(t)
	a := g.create(nil)
	b := g.create(nil)
	ua, _ := url.Parse(a.URL)
	ub, _ := url.Parse(b.URL)
	withToken := func(u *url.URL, tok string) string {
		v := *u
		v.RawQuery = url.Values{"token": {tok}}.Encode()
		return v.String()
	}

	// A's token on B's socket.
	g.dialFails(withToken(ub, ua.Query().Get("token"))).fails(t, 401, "another session")
	g.dialFails(withToken(ua, "")).fails(t, 401, "missing session token")
	g.dialFails(withToken(ua, "garbage")).fails(t, 401)
	g.dialFails(withToken(ua, g.token)).fails(t, 401) // an API token is not a session token
	expired := g.tokens.SessionToken(a.ID, "x", time.Now().Add(-time.Minute))
	g.dialFails(withToken(ua, expired)).fails(t, 401, "expired")

	// A valid token for a session that does not exist.
	ghost := session.NewID()
	gu := *ua
	gu.Path = "/1.0/sessions/" + ghost + "/sockets/client"
	g.dialFails(withToken(&gu, g.tokens.SessionToken(ghost, "x", time.Now().Add(time.Minute)))).fails(t, 404)

	// An ended session.
	g.call(http.MethodDelete, "/1.0/sessions/"+b.ID, nil).ok(t, 200, nil)
	g.dialFails(b.URL).fails(t, 409, "session ended")

	// A plain GET that is no upgrade is refused after the checks, without
	// leaving anything behind or spending the URL (sockettoken_test.go).
	resp, err := http.Get(strings.Replace(a.URL, "ws://", "http://", 1))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUpgradeRequired {
		t.Fatalf("plain GET answered %d", resp.StatusCode)
	}
}

func TestSocketBadFrames(t *testing.T) {
	g := newTestGW(t)
	c := g.create(nil)
	ws := g.dial(c.URL)
	ctx := context.Background()

	for _, tc := range []struct{ frame, want string }{
		{`hello`, "must be a JSON object"},
		{`{"sdp":"v=0"}`, `missing string "type"`},
		{`{"type":5}`, `"type" must be a string`},
		{`{"type":null}`, `missing string "type"`},
		{`{"type":"offer"`, "not valid JSON"},
		{`["type","offer"]`, "must be a JSON object"},
	} {
		writeFrame(t, ws, tc.frame)
		expectErrorFrame(t, ws, tc.want)
	}
	if err := ws.Write(ctx, websocket.MessageBinary, []byte(`{"type":"offer"}`)); err != nil {
		t.Fatal(err)
	}
	expectErrorFrame(t, ws, "binary frames")

	// The connection still relays, and none of the bad frames went through.
	writeFrame(t, ws, `{"type":"offer","sdp":"ok"}`)
	if data, _ := g.streamer(c.ID).next(); string(data) != `{"type":"offer","sdp":"ok"}` {
		t.Fatalf("streamer's first frame %s, want the good one", data)
	}
}

func TestSocketOversizedFrameCloses1009(t *testing.T) {
	g := newTestGW(t, func(c *Config) { c.MaxFrameBytes = 1024 })
	c := g.create(nil)
	ws := g.dial(c.URL)
	// Exactly at the limit passes.
	exact := `{"type":"x","p":"` + strings.Repeat("a", 1024-len(`{"type":"x","p":""}`)) + `"}`
	writeFrame(t, ws, exact)
	expectStreamerFrame(t, g, c.ID, exact)

	writeFrame(t, ws, `{"type":"x","p":"`+strings.Repeat("a", 2000)+`"}`)
	expectClose(t, ws, websocket.StatusMessageTooBig, "read limited at")
}

func TestSocketRateLimit(t *testing.T) {
	g := newTestGW(t, func(c *Config) { c.MaxFramesPerSecond = 0.001; c.FrameBurst = 2 })
	c := g.create(nil)
	ws := g.dial(c.URL)
	writeFrame(t, ws, `{"type":"a"}`)
	writeFrame(t, ws, `{"type":"b"}`)
	writeFrame(t, ws, `{"type":"c"}`)
	expectErrorFrame(t, ws, "rate limit")
	st := g.streamer(c.ID)
	for _, want := range []string{`{"type":"a"}`, `{"type":"b"}`} {
		if data, _ := st.next(); string(data) != want {
			t.Fatalf("streamer got %s, want %s", data, want)
		}
	}
}

func TestSocketSessionsAreIsolated(t *testing.T) {
	g := newTestGW(t)
	a, b := g.create(nil), g.create(nil)
	wsA, wsB := g.dial(a.URL), g.dial(b.URL)
	writeFrame(t, wsA, `{"type":"from-a"}`)
	writeFrame(t, wsB, `{"type":"from-b"}`)

	stA, stB := g.streamer(a.ID), g.streamer(b.ID)
	dataA, connA := stA.next()
	dataB, connB := stB.next()
	if string(dataA) != `{"type":"from-a"}` || string(dataB) != `{"type":"from-b"}` || connA == connB {
		t.Fatalf("A's streamer got %s (%s), B's got %s (%s)", dataA, connA, dataB, connB)
	}

	// Publish for A first, then for B: B's first frame must be its own.
	g.sendToClient(a.ID, connA, []byte(`{"type":"to-a"}`))
	g.sendToClient(b.ID, connB, []byte(`{"type":"to-b"}`))
	if got := readFrame(t, wsB); string(got) != `{"type":"to-b"}` {
		t.Fatalf("B's client got %s", got)
	}
	if got := readFrame(t, wsA); string(got) != `{"type":"to-a"}` {
		t.Fatalf("A's client got %s", got)
	}
	// A's streamer never sees B's frames, and the reverse: the next frame
	// each reads is the next from its own client.
	writeFrame(t, wsB, `{"type":"b2"}`)
	writeFrame(t, wsA, `{"type":"a2"}`)
	if data, _ := stA.next(); string(data) != `{"type":"a2"}` {
		t.Fatalf("A's streamer got %s", data)
	}
	if data, _ := stB.next(); string(data) != `{"type":"b2"}` {
		t.Fatalf("B's streamer got %s", data)
	}
}

func TestSocketTwoConnectionsOfOneSession(t *testing.T) {
	g := newTestGW(t)
	c := g.create(map[string]any{"app": "x", "joinable": true})
	ws1 := g.dial(c.URL)
	writeFrame(t, ws1, `{"type":"one"}`)
	st := g.streamer(c.ID)
	_, conn1 := st.next()

	var j created
	g.call(http.MethodPost, "/1.0/sessions/"+c.ID+"/join", nil).ok(t, 200, &j)
	ws2 := g.dial(j.URL)
	writeFrame(t, ws2, `{"type":"two"}`)
	_, conn2 := st.next()
	if conn1 == conn2 {
		t.Fatal("two websockets share a connection id")
	}
	// A frame for the first connection reaches only the first client.
	g.sendToClient(c.ID, conn1, []byte(`{"type":"for-1"}`))
	g.sendToClient(c.ID, conn2, []byte(`{"type":"for-2"}`))
	if got := readFrame(t, ws2); string(got) != `{"type":"for-2"}` {
		t.Fatalf("second client got %s", got)
	}
	if got := readFrame(t, ws1); string(got) != `{"type":"for-1"}` {
		t.Fatalf("first client got %s", got)
	}
}

func TestSocketClosesWhenSessionEnds(t *testing.T) {
	g := newTestGW(t)
	c := g.create(nil)
	ws := g.dial(c.URL)
	writeFrame(t, ws, `{"type":"offer"}`)
	g.streamer(c.ID).next() // the bridge is running
	g.call(http.MethodDelete, "/1.0/sessions/"+c.ID, nil).ok(t, 200, nil)
	expectClose(t, ws, websocket.StatusNormalClosure, "session ended")

	// Ended by another component (placed, then the agent gives up).
	d := g.create(nil)
	ws = g.dial(d.URL)
	writeFrame(t, ws, `{"type":"offer"}`)
	g.streamer(d.ID).next()
	if _, err := g.store.Update(context.Background(), d.ID, func(s *session.Session) error {
		s.Status, s.Reason = session.StatusError, session.ReasonNoCapacity
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	expectClose(t, ws, websocket.StatusNormalClosure, "session ended")
}

func TestServeShutdownClosesSockets(t *testing.T) {
	env := natstest.Start(t)
	g := newTestGWOn(t, env)
	c := g.create(nil)
	ws := g.dial(c.URL)
	writeFrame(t, ws, `{"type":"offer"}`)
	g.streamer(c.ID).next()

	// Stop Serve directly (the cleanup then finds it stopped).
	fresh := g.joinURL(c.ID)
	g.srv.closeSockets()
	expectClose(t, ws, websocket.StatusGoingAway, "shutting down")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.srv.waitSockets(ctx); err != nil {
		t.Fatal(err)
	}
	// New websockets are refused while shutting down.
	g.dialFails(fresh).fails(t, 503, "shutting down")
}

// A connection that fills its signaling budget in the stream (no streamer
// reads it) is closed 1008 with the reason, not asked to send again; the
// frames it stored are kept, and another session's connection goes on.
func TestSocketSignalingBudgetSpentCloses1008(t *testing.T) {
	g := newTestGW(t, func(c *Config) { c.MaxFramesPerSecond = 1e6; c.FrameBurst = 1e6 })
	c, other := g.create(nil), g.create(nil)
	ws, wsOther := g.dial(c.URL), g.dial(other.URL)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var err error
	for i := 0; i <= int(sjs.DefaultLimits().SignalMaxMsgsPerSubject)+1 && err == nil; i++ {
		err = ws.Write(ctx, websocket.MessageText, []byte(`{"type":"flood"}`))
	}
	// The close arrives on the reading side.
	for err == nil {
		_, _, err = ws.Read(ctx)
	}
	if status := websocket.CloseStatus(err); status != websocket.StatusPolicyViolation {
		t.Fatalf("closed with %v (%v), want 1008", status, err)
	}
	writeFrame(t, wsOther, `{"type":"still-here"}`)
	if data, _ := g.streamer(other.ID).next(); string(data) != `{"type":"still-here"}` {
		t.Fatalf("the other session's streamer got %s", data)
	}
}
