package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

// testGW is a gateway served on a loopback listener over an embedded NATS.
type testGW struct {
	t      testing.TB
	env    *natstest.Env
	srv    *Server
	store  *session.Store
	tokens *auth.Tokens
	token  string // a valid API token
	tokID  string // its id, the NATS service's caller
	base   string // http://127.0.0.1:port
}

func testLogger() *slog.Logger {
	if os.Getenv("GATEWAY_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// newTestGW starts a gateway with cfg changed by mods. Cleanup stops Serve,
// checks it returned nil, and that no goroutine of the gateway is left.
func newTestGW(t testing.TB, mods ...func(*Config)) *testGW {
	t.Helper()
	env := natstest.Start(t)
	g := newTestGWOn(t, env, mods...)
	return g
}

func newTestGWOn(t testing.TB, env *natstest.Env, mods ...func(*Config)) *testGW {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tokens, err := auth.New(ctx, env.Tokens)
	if err != nil {
		t.Fatal(err)
	}
	secret, tokInfo, err := tokens.Create(ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	log := testLogger()
	store := session.NewStore(env.JS, env.Sessions, "gateway-test", log)
	cfg := DefaultConfig()
	cfg.ShutdownTimeout = 10 * time.Second
	for _, m := range mods {
		m(&cfg)
	}
	srv, err := New(cfg, Deps{Conn: env.Conn, Resources: env.Resources, Sessions: store, Tokens: tokens, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	liveGateways.Add(1)
	serveCtx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(serveCtx, ln) }()
	scheme := "http://"
	if cfg.TLSCertFile != "" {
		scheme = "https://"
	}
	g := &testGW{t: t, env: env, srv: srv, store: store, tokens: tokens, token: secret, tokID: tokInfo.ID, base: scheme + ln.Addr().String()}
	t.Cleanup(func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Errorf("Serve did not return after its context ended")
		}
		if liveGateways.Add(-1) == 0 {
			checkNoLeftovers(t)
			// A NATS client's consumers go once nobody listens for natsConsumerIdle.
			natstest.CheckFor(t, 3*natsConsumerIdle, 10*time.Millisecond, func() error { return noClientConsumers(g) })
		}
	})
	return g
}

// liveGateways counts the test gateways still serving: goroutines are
// checked once the last one of a test stops.
var liveGateways atomic.Int32

// leftoverMarkers name functions no goroutine may be in once Serve returns.
var leftoverMarkers = []string{
	"streamstack/gateway.(*bridge)",
	"streamstack/gateway.(*Server)",
	"streamstack/session.(*Store).Watch",
}

func checkNoLeftovers(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var left []string
		for g := range strings.SplitSeq(string(buf), "\n\n") {
			for _, m := range leftoverMarkers {
				if strings.Contains(g, m) {
					left = append(left, g)
					break
				}
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("goroutines left behind:\n\n%s", strings.Join(left, "\n\n"))
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// envelope is any answer of the API.
type envelope struct {
	Type       string          `json:"type"`
	Status     string          `json:"status"`
	StatusCode int             `json:"status_code"`
	Metadata   json.RawMessage `json:"metadata"`
	Error      string          `json:"error"`
}

type answer struct {
	code   int
	header http.Header
	env    envelope
	raw    []byte
}

// call makes a request with the Bearer token unless headers set
// Authorization (pass "Authorization", "" for none).
func (g *testGW) call(method, path string, body any, headers ...string) answer {
	g.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			g.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, g.base+path, rd)
	if err != nil {
		g.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+g.token)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		g.t.Fatal(err)
	}
	a := answer{code: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &a.env); err != nil {
			g.t.Fatalf("%s %s: answer is not JSON: %v: %s", method, path, err, raw)
		}
	}
	return a
}

// ok checks a success envelope with status code want and decodes metadata.
func (a answer) ok(t testing.TB, want int, into any) {
	t.Helper()
	if a.code != want || a.env.Type != "sync" || a.env.Status != "success" || a.env.StatusCode != want {
		t.Fatalf("answer %d, want %d in a success envelope: %s", a.code, want, a.raw)
	}
	if into != nil {
		if err := json.Unmarshal(a.env.Metadata, into); err != nil {
			t.Fatalf("metadata: %v: %s", err, a.env.Metadata)
		}
	}
}

// fails checks an error envelope with status want whose message contains
// each of msgs.
func (a answer) fails(t testing.TB, want int, msgs ...string) {
	t.Helper()
	if a.code != want || a.env.Type != "error" || a.env.Status != "error" || a.env.StatusCode != want || a.env.Error == "" {
		t.Fatalf("answer %d, want %d in an error envelope: %s", a.code, want, a.raw)
	}
	for _, m := range msgs {
		if !strings.Contains(a.env.Error, m) {
			t.Fatalf("error %q does not mention %q", a.env.Error, m)
		}
	}
}

type created struct {
	session.Session
	URL         string          `json:"url"`
	StunServers json.RawMessage `json:"stun_servers"`
}

// create makes a session through the API.
func (g *testGW) create(body any) created {
	g.t.Helper()
	if body == nil {
		body = map[string]any{"app": "test-pattern"}
	}
	var c created
	g.call(http.MethodPost, "/1.0/sessions/", body).ok(g.t, http.StatusCreated, &c)
	return c
}

// dial opens a client websocket.
func (g *testGW) dial(url string) *websocket.Conn {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		g.t.Fatalf("dial %s: %v", url, err)
	}
	c.SetReadLimit(1 << 20)
	g.t.Cleanup(func() { _ = c.CloseNow() })
	return c
}

// dialFails dials and returns the HTTP answer of a refused upgrade.
func (g *testGW) dialFails(url string) answer {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, url, nil)
	if err == nil {
		_ = c.CloseNow()
		g.t.Fatalf("dial %s succeeded, want a refusal", url)
	}
	if resp == nil {
		g.t.Fatalf("dial %s: no HTTP answer: %v", url, err)
	}
	raw, _ := io.ReadAll(resp.Body)
	a := answer{code: resp.StatusCode, header: resp.Header, raw: raw}
	if err := json.Unmarshal(raw, &a.env); err != nil {
		g.t.Fatalf("refusal is not JSON: %s", raw)
	}
	return a
}

// readFrame reads one text frame within the deadline.
func readFrame(t testing.TB, c *websocket.Conn) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	typ, data, err := c.Read(ctx)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if typ != websocket.MessageText {
		t.Fatalf("frame type %v, want text", typ)
	}
	return data
}

func writeFrame(t testing.TB, c *websocket.Conn, data string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, []byte(data)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// expectErrorFrame reads a frame and checks it is an error naming want.
func expectErrorFrame(t testing.TB, c *websocket.Conn, want string) {
	t.Helper()
	data := readFrame(t, c)
	var f struct{ Type, Message string }
	if err := json.Unmarshal(data, &f); err != nil || f.Type != "error" || !strings.Contains(f.Message, want) {
		t.Fatalf("frame %s, want an error frame mentioning %q", data, want)
	}
}

// expectClose reads until the connection closes and checks the status.
func expectClose(t testing.TB, c *websocket.Conn, code websocket.StatusCode, reason string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, data, err := c.Read(ctx)
		if err == nil {
			t.Logf("frame before close: %s", data)
			continue
		}
		var ce websocket.CloseError
		if !errors.As(err, &ce) {
			t.Fatalf("connection ended with %v, want close status %d", err, code)
		}
		if ce.Code != code || !strings.Contains(ce.Reason, reason) {
			t.Fatalf("closed with %d %q, want %d %q", ce.Code, ce.Reason, code, reason)
		}
		return
	}
}

// streamerSide reads what clients of a session sent to its streamer.
type streamerSide struct {
	t    testing.TB
	cons njs.Consumer
}

func (g *testGW) streamer(id string) *streamerSide {
	g.t.Helper()
	filter, err := subjects.SignalToStreamerAll(id)
	if err != nil {
		g.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cons, err := g.env.JS.OrderedConsumer(ctx, subjects.StreamSignal, njs.OrderedConsumerConfig{
		FilterSubjects: []string{filter}, DeliverPolicy: njs.DeliverAllPolicy,
	})
	if err != nil {
		g.t.Fatal(err)
	}
	return &streamerSide{t: g.t, cons: cons}
}

// next returns the next frame and the connection id it came from.
func (s *streamerSide) next() (data []byte, connID string) {
	s.t.Helper()
	msg, err := s.cons.Next(njs.FetchMaxWait(10 * time.Second))
	if err != nil {
		s.t.Fatalf("streamer side: %v", err)
	}
	_, dir, conn, err := subjects.ParseSignal(msg.Subject())
	if err != nil || dir != subjects.ToStreamer {
		s.t.Fatalf("subject %q: %v", msg.Subject(), err)
	}
	return msg.Data(), conn
}

// sendToClient publishes a frame for a client connection into JetStream.
func (g *testGW) sendToClient(id, connID string, data []byte) {
	g.t.Helper()
	subj, err := subjects.Signal(id, subjects.ToClient, connID)
	if err != nil {
		g.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := g.env.JS.Publish(ctx, subj, data); err != nil {
		g.t.Fatal(err)
	}
}

// configCase is a change to DefaultConfig that Validate must refuse with
// an ErrConfig naming want.
type configCase struct {
	name string
	mod  func(*Config)
	want string
}

func refusesConfig(t *testing.T, cases []configCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.mod(&c)
			if err := c.Validate(); err == nil || !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}
