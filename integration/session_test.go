package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/pattern"
	"github.com/streamstack/streamstack/subjects"
)

var hd = session.Screen{Width: 1280, Height: 720, FPS: 30}

// frameLog records what a client decoded: the strip of every frame and a
// hash of the picture below the strip.
type frameLog struct {
	mu     sync.Mutex
	stamps []pattern.Stamp
	hashes map[uint64]bool
}

func (l *frameLog) onFrame(img *yuv.Image, st pattern.Stamp) {
	h := fnv.New64a()
	h.Write(img.Y[img.YStride*img.Height/2 : img.YStride*(img.Height/2+16)])
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.hashes == nil {
		l.hashes = map[uint64]bool{}
	}
	l.stamps = append(l.stamps, st)
	l.hashes[h.Sum64()] = true
}

// checkMoving checks the frames decoded so far: the strip's counter
// advanced by one a frame and at least half the pictures differ.
func (l *frameLog) checkMoving(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	first, last := l.stamps[0], l.stamps[len(l.stamps)-1]
	if int(last.Frame-first.Frame) < len(l.stamps)-1 {
		t.Errorf("frame counter went from %d to %d over %d frames", first.Frame, last.Frame, len(l.stamps))
	}
	if len(l.hashes) < len(l.stamps)/2 {
		t.Errorf("only %d distinct pictures in %d frames: the picture is not moving", len(l.hashes), len(l.stamps))
	}
}

// open creates a session through the API and connects a client to it over
// the websocket, as the Anbox SDK does.
func (s *stack) open(t *testing.T, ctx context.Context, req client.CreateRequest, opts client.Options) (*client.SessionInfo, *client.Peer) {
	t.Helper()
	if req.App == "" {
		req.App = "test-pattern"
	}
	info, err := s.api.Create(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	return info, s.connect(t, ctx, info, opts)
}

func (s *stack) connect(t *testing.T, ctx context.Context, info *client.SessionInfo, opts client.Options) *client.Peer {
	t.Helper()
	sig, err := client.DialWebsocket(ctx, info.URL)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	peer, err := client.NewPeer(sig, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = peer.Close() })
	if err := peer.Connect(ctx); err != nil {
		t.Fatalf("session %s: connect: %v", info.ID, err)
	}
	return peer
}

// streamerStats asks a session's streamer process for its counters.
func (s *stack) streamerStats(t *testing.T, id string) streamer.Stats {
	t.Helper()
	subj, _ := subjects.StreamerStats(id)
	msg, err := s.Conn.Request(subj, nil, 5*time.Second)
	if err != nil {
		t.Fatalf("stats of %s: %v", id, err)
	}
	var st streamer.Stats
	if err := json.Unmarshal(msg.Data, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSessionStreamsVideo(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{})
	ctx := testCtx(t)
	var frames frameLog
	info, peer := st.open(t, ctx, client.CreateRequest{Screen: &hd}, client.Options{OnFrame: frames.onFrame})
	if !strings.HasPrefix(info.URL, "ws://") || info.StunServers == nil || info.Status != session.StatusCreated {
		t.Fatalf("create answered %+v", info)
	}
	if err := peer.WaitFrames(ctx, 60); err != nil {
		t.Fatal(err)
	}
	frames.checkMoving(t)
	stats := peer.Stats()
	if stats.Latency <= 0 || stats.Latency > 2*time.Second {
		t.Errorf("latency read from the picture: %s", stats.Latency)
	}
	rec := st.waitStatus(t, info.ID, func(s *session.Session) bool { return s.Status == session.StatusActive })
	if rec.Codec != "" && rec.Codec != "VP8" {
		t.Errorf("codec %q", rec.Codec)
	}
	got, err := st.api.Get(ctx, info.ID)
	if err != nil || got.Status != session.StatusActive {
		t.Fatalf("GET: %+v %v", got, err)
	}
}

func TestInputReachesStreamer(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{})
	ctx := testCtx(t)
	info, peer := st.open(t, ctx, client.CreateRequest{Screen: &hd}, client.Options{})
	send := func(typ string, data any) {
		t.Helper()
		if err := peer.SendInput(typ, data); err != nil {
			t.Fatal(err)
		}
	}
	send("input::mouse-move", map[string]int{"x": 640, "y": 360, "rx": 3, "ry": -2})
	send("input::mouse-button", map[string]any{"button": 1, "pressed": true})
	send("input::mouse-button", map[string]any{"button": 1, "pressed": false})
	send("input::key", map[string]any{"code": 29, "pressed": true})
	send("input::mouse-wheel", map[string]int{"x": 0, "y": -1})
	send("input::no-such-thing", map[string]int{})
	if err := peer.SendRaw("control", []byte("this is not json")); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		s := st.streamerStats(t, info.ID)
		if s.Inputs["input::mouse-move"] != 1 || s.Inputs["input::mouse-button"] != 2 ||
			s.Inputs["input::key"] != 1 || s.Inputs["input::mouse-wheel"] != 1 || s.InputErrors != 2 {
			return fmt.Errorf("inputs %v, errors %d", s.Inputs, s.InputErrors)
		}
		return nil
	})
	// The stream goes on after malformed input.
	n := peer.Stats().FramesDecoded
	if err := peer.WaitFrames(ctx, int(n)+10); err != nil {
		t.Fatal(err)
	}
}

// eventTypes reads a session's events from the stream, in order.
func (s *stack) eventTypes(t *testing.T, ctx context.Context, id string, until string) []string {
	t.Helper()
	filter, _ := subjects.EventsOf(id)
	c, err := s.Res.JS.OrderedConsumer(ctx, subjects.StreamEvents, njs.OrderedConsumerConfig{FilterSubjects: []string{filter}})
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for {
		msg, err := c.Next(njs.FetchMaxWait(5 * time.Second))
		if err != nil {
			t.Fatalf("events so far %v: %v", types, err)
		}
		var ev session.Event
		if err := json.Unmarshal(msg.Data(), &ev); err != nil {
			t.Fatal(err)
		}
		types = append(types, strings.TrimPrefix(ev.Type, session.CloudEventsPrefix))
		if ev.Type == session.CloudEventsPrefix+until {
			return types
		}
	}
}

func TestDeleteEndsSessionWithEventsInOrder(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{})
	ctx := testCtx(t)
	info, peer := st.open(t, ctx, client.CreateRequest{Screen: &hd}, client.Options{})
	if err := peer.WaitFrames(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if err := st.api.Delete(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	rec := st.waitStatus(t, info.ID, func(s *session.Session) bool { return s.Status == session.StatusTerminated })
	if rec.Reason != session.ReasonDeleted {
		t.Errorf("reason %q", rec.Reason)
	}
	types := st.eventTypes(t, ctx, info.ID, session.EventTerminated)
	want := []string{session.EventCreated, session.EventPlaced, session.EventActive, session.EventTerminating, session.EventTerminated}
	i := 0
	for _, typ := range types {
		if i < len(want) && typ == want[i] {
			i++
		}
	}
	if i != len(want) {
		t.Fatalf("events %v do not contain %v in order", types, want)
	}
	var apiErr *client.APIError
	if err := st.api.Delete(ctx, info.ID); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusConflict {
		t.Fatalf("second delete: %v", err)
	}
}

func TestTwoSessionsStayApart(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{})
	ctx := testCtx(t)
	small := session.Screen{Width: 640, Height: 360, FPS: 30}
	a, pa := st.open(t, ctx, client.CreateRequest{Screen: &small}, client.Options{})
	b, pb := st.open(t, ctx, client.CreateRequest{Screen: &small}, client.Options{})
	if err := pa.SendInput("input::key", map[string]any{"code": 30, "pressed": true}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*client.Peer{pa, pb} {
		if err := p.WaitFrames(ctx, 30); err != nil {
			t.Fatal(err)
		}
	}
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := st.streamerStats(t, a.ID).Inputs["input::key"]; n != 1 {
			return fmt.Errorf("a got %d keys", n)
		}
		return nil
	})
	sb := st.streamerStats(t, b.ID)
	if len(sb.Inputs) != 0 || sb.PeersConnected != 1 || sb.SignalingErrors != 0 {
		t.Fatalf("b saw a's traffic: %+v", sb)
	}
	if sa := st.streamerStats(t, a.ID); sa.PeersConnected != 1 || sa.SignalingErrors != 0 {
		t.Fatalf("a: %+v", sa)
	}
}

// rawSocket is a websocket spoken to by hand, for protocol errors.
type rawSocket struct {
	t *testing.T
	c *websocket.Conn
}

func dialRaw(t *testing.T, ctx context.Context, url string) *rawSocket {
	t.Helper()
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = c.CloseNow() })
	return &rawSocket{t: t, c: c}
}

func (r *rawSocket) send(ctx context.Context, s string) {
	r.t.Helper()
	if err := r.c.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
		r.t.Fatal(err)
	}
}

// next reads frames until one of type typ arrives.
func (r *rawSocket) next(ctx context.Context, typ string) map[string]any {
	r.t.Helper()
	for {
		_, b, err := r.c.Read(ctx)
		if err != nil {
			r.t.Fatalf("waiting for %s: %v", typ, err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			r.t.Fatalf("frame %q: %v", b, err)
		}
		if m["type"] == typ {
			return m
		}
	}
}

func TestBadInputsLeaveOthersStreaming(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{})
	ctx := testCtx(t)
	small := session.Screen{Width: 640, Height: 360, FPS: 30}
	_, healthy := st.open(t, ctx, client.CreateRequest{Screen: &small}, client.Options{})
	if err := healthy.WaitFrames(ctx, 5); err != nil {
		t.Fatal(err)
	}

	post := func(body, token string) (int, string) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, st.baseURL+"/1.0/sessions", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var env struct {
			Type  string `json:"type"`
			Error string `json:"error"`
			Code  int    `json:"status_code"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&env); err != nil || env.Type != "error" || env.Code != resp.StatusCode || env.Error == "" {
			t.Fatalf("error envelope %+v (%v)", env, err)
		}
		return resp.StatusCode, env.Error
	}
	if code, msg := post(`{"app": "test-pattern",`, st.token); code != http.StatusBadRequest {
		t.Errorf("malformed JSON: %d %s", code, msg)
	}
	if code, msg := post(`{"screen": {"width": 640, "height": 360}}`, st.token); code != http.StatusBadRequest || !strings.Contains(msg, "app") {
		t.Errorf("missing app: %d %s", code, msg)
	}
	if code, msg := post(`{"app": "test-pattern"}`, "wrong-token"); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d %s", code, msg)
	}
	var apiErr *client.APIError
	if _, err := st.api.Get(ctx, "nosuchsession"); !errors.As(err, &apiErr) || apiErr.StatusCode != http.StatusNotFound {
		t.Errorf("unknown session: %v", err)
	}

	// A session for the websocket tests, and another whose token must not open it.
	victim, err := st.api.Create(ctx, client.CreateRequest{App: "test-pattern", Screen: &small})
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.api.Create(ctx, client.CreateRequest{App: "test-pattern", Screen: &small})
	if err != nil {
		t.Fatal(err)
	}
	otherToken := other.URL[strings.Index(other.URL, "token=")+len("token="):]
	stolen := victim.URL[:strings.Index(victim.URL, "token=")] + "token=" + otherToken
	if _, resp, err := websocket.Dial(ctx, stolen, nil); err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("token of another session opened the websocket: %v", err)
	}

	ws := dialRaw(t, ctx, victim.URL)
	ws.send(ctx, "not json at all")
	if m := ws.next(ctx, "error"); !strings.Contains(fmt.Sprint(m["message"]), "JSON") {
		t.Errorf("non-JSON frame: %v", m)
	}
	// Then the real protocol, with a garbage answer.
	ws.send(ctx, `{"type":"discover"}`)
	ws.next(ctx, "resp:discover")
	ws.send(ctx, `{"type":"settings","api_version":2,"data_channels":[],"enable_speaker":true,"enable_video":true}`)
	ws.next(ctx, "offer")
	ws.send(ctx, `{"type":"answer","sdp":"`+base64.StdEncoding.EncodeToString([]byte("v=0\r\nthis is no SDP\r\n"))+`"}`)
	ws.next(ctx, "error")
	rec := st.waitStatus(t, victim.ID, func(s *session.Session) bool { return s.Status.Ended() })
	if rec.Status != session.StatusTerminated || rec.Reason != session.ReasonSignaling {
		t.Errorf("after garbage answer: %s %q", rec.Status, rec.Reason)
	}

	big := dialRaw(t, ctx, other.URL)
	big.send(ctx, `{"type":"x","pad":"`+strings.Repeat("a", 70<<10)+`"}`)
	_, _, err = big.c.Read(ctx)
	if websocket.CloseStatus(err) != websocket.StatusMessageTooBig {
		t.Errorf("oversized frame: %v", err)
	}

	// The healthy session streamed through all of it.
	n := healthy.Stats().FramesDecoded
	if err := healthy.WaitFrames(ctx, int(n)+30); err != nil {
		t.Fatal(err)
	}
	if e := healthy.Stats().StreamerErrors; len(e) != 0 {
		t.Fatalf("healthy session saw errors %v", e)
	}
}
