package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/promtest"
	"github.com/streamstack/streamstack/subjects"
)

// Websocket liveness (ping, idle close) and the per-session cap. The
// silent client speaks raw websocket frames over loopback, so the test
// decides exactly which ping it answers; the others are coder/websocket
// clients that read all the time, as the SDK and the Go client do.

func TestWebsocketConfigValidate(t *testing.T) {
	refusesConfig(t, []configCase{
		{"no ping interval", func(c *Config) { c.WSPingInterval = 0 }, "WSPingInterval"},
		{"no idle timeout", func(c *Config) { c.WSIdleTimeout = -time.Second }, "WSIdleTimeout"},
		{"idle not above ping", func(c *Config) { c.WSPingInterval, c.WSIdleTimeout = time.Second, time.Second }, "longer than WSPingInterval"},
		{"negative cap", func(c *Config) { c.WSMaxPerSession = -1 }, "WSMaxPerSession"},
		{"cap too large", func(c *Config) { c.WSMaxPerSession = maxSocketSlots + 1 }, "WSMaxPerSession"},
	})
	c := DefaultConfig()
	c.WSMaxPerSession = 0 // no cap
	if err := c.Validate(); err != nil {
		t.Fatalf("no per-session cap: %v", err)
	}
}

// A client that stops answering pings is closed with 4408 "idle timeout"
// no earlier than the idle timeout after its last pong, while a client of
// the same session that answers them, and sends nothing else, is served.
func TestWebsocketIdleClosedOthersServed(t *testing.T) {
	const ping, idle = 100 * time.Millisecond, 500 * time.Millisecond
	g := newTestGW(t, func(c *Config) { c.WSPingInterval, c.WSIdleTimeout = ping, idle })
	c := g.create(nil)

	live := g.dial(c.URL)
	liveFrames := readPump(live)

	silent := g.rawWebsocket(t, g.joinURL(c.ID))
	// The first ping is answered, and so is the gateway's then.
	op, payload := silent.frame(10 * time.Second)
	if op != opPing {
		t.Fatalf("first frame opcode %d, want a ping", op)
	}
	lastPong := time.Now()
	silent.write(opPong, payload)

	// Then nothing: pings go unanswered until the gateway closes.
	unanswered := 0
	for {
		op, payload = silent.frame(10 * idle)
		if op == opPing {
			unanswered++
			continue
		}
		break
	}
	closedAt := time.Now()
	if op != opClose || len(payload) < 2 {
		t.Fatalf("frame opcode %d %q, want a close", op, payload)
	}
	code, reason := websocket.StatusCode(binary.BigEndian.Uint16(payload)), string(payload[2:])
	if code != StatusIdleTimeout || !strings.Contains(reason, "idle timeout") || !strings.Contains(reason, idle.String()) {
		t.Fatalf("closed with %d %q, want %d naming the idle timeout of %s", code, reason, StatusIdleTimeout, idle)
	}
	if since := closedAt.Sub(lastPong); since < idle {
		t.Fatalf("closed %s after the last pong, before the idle timeout of %s", since, idle)
	}
	if unanswered < 1 {
		t.Fatalf("no ping after the answered one; want pings every %s", ping)
	}
	silent.write(opClose, payload) // the close handshake, as a client does
	silent.closedWithin(10 * time.Second)

	// The live client has sent nothing either, for longer than the idle
	// timeout, yet answered every ping: it still relays both ways.
	writeFrame(t, live, `{"type":"offer"}`)
	data, connID := g.streamer(c.ID).next()
	if string(data) != `{"type":"offer"}` {
		t.Fatalf("streamer got %s", data)
	}
	g.sendToClient(c.ID, connID, []byte(`{"type":"answer"}`))
	if got := liveFrames.next(t); string(got) != `{"type":"answer"}` {
		t.Fatalf("live client got %s", got)
	}

	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		m, err := promtest.TryScrape(g.base + "/metrics?api_token=" + g.token)
		if err != nil {
			return err
		}
		if v, ok := m.Value("streamstack_gateway_websockets_idle_closed_total"); !ok || v != 1 {
			return fmt.Errorf("idle closed %v (%v), want 1", v, ok)
		}
		if v, ok := m.Value("streamstack_gateway_websockets"); !ok || v != 1 {
			return fmt.Errorf("websockets %v (%v), want 1", v, ok)
		}
		return nil
	})
}

// The cap counts a session's websockets on every gateway of one NATS: the
// N+1-th is refused with 429 on either gateway, another session's is
// accepted, and once one of the N closes a new one is accepted.
func TestWebsocketCapPerSession(t *testing.T) {
	const maxPer = 3
	env := natstest.Start(t)
	capped := func(c *Config) { c.WSMaxPerSession = maxPer }
	g1 := newTestGWOn(t, env, capped)
	g2 := newTestGWOn(t, env, capped)
	a, b := g1.create(nil), g1.create(nil)
	// Each websocket needs a URL of its own (sockettoken.go); the cap
	// refuses one before using its URL up.
	open := []*websocket.Conn{g1.dial(a.URL), g2.dial(g2.urlOn(g1, g1.joinURL(a.ID))), g1.dial(g1.joinURL(a.ID))}
	expectSockets(t, env, a.ID, maxPer)

	fourth := g1.joinURL(a.ID)
	for _, over := range []answer{g1.dialFails(fourth), g2.dialFails(g2.urlOn(g1, fourth))} {
		over.fails(t, http.StatusTooManyRequests, "too many websockets", a.ID,
			fmt.Sprintf("%d signaling connections open", maxPer), "--ws-max-per-session")
	}
	// The open ones still relay.
	for i, ws := range open {
		frame := fmt.Sprintf(`{"type":"candidate","n":%d}`, i)
		writeFrame(t, ws, frame)
		expectStreamerFrame(t, g1, a.ID, frame)
	}

	// Another session is not affected.
	wsB := g2.dial(g2.urlOn(g1, b.URL))
	writeFrame(t, wsB, `{"type":"offer"}`)
	expectStreamerFrame(t, g1, b.ID, `{"type":"offer"}`)

	// One of the N leaves; once its gateway has let its slot go, a new one
	// is accepted, and then the cap holds again.
	if err := open[1].Close(websocket.StatusNormalClosure, "ice connected"); err != nil {
		t.Fatal(err)
	}
	expectSockets(t, env, a.ID, maxPer-1)
	again := g1.dial(fourth)
	writeFrame(t, again, `{"type":"again"}`)
	expectStreamerFrame(t, g1, a.ID, `{"type":"again"}`)
	g2.dialFails(g2.urlOn(g1, g1.joinURL(a.ID))).fails(t, http.StatusTooManyRequests, "too many websockets")

	m := promtest.Scrape(t, g2.base+"/metrics?api_token="+g2.token)
	if v, ok := m.Value("streamstack_gateway_websockets_refused_total"); !ok || v != 2 {
		t.Errorf("g2 refused %v (%v), want 2", v, ok)
	}
}

// With no cap, a session may open more websockets than the default cap.
func TestWebsocketNoCap(t *testing.T) {
	g := newTestGW(t, func(c *Config) { c.WSMaxPerSession = 0 })
	c := g.create(nil)
	n := DefaultConfig().WSMaxPerSession + 2
	for i := range n {
		ws := g.dial(g.joinURL(c.ID))
		writeFrame(t, ws, fmt.Sprintf(`{"type":"n","n":%d}`, i))
	}
	expectSockets(t, g.env, c.ID, n)
}

// A websocket whose consumer JetStream lost closes with 1013, and frees
// its slot.
func TestWebsocketConsumerLostCloses(t *testing.T) {
	g := newTestGW(t, func(c *Config) { c.WSMaxPerSession = 1 })
	c := g.create(nil)
	ws := g.dial(c.URL)
	expectSockets(t, g.env, c.ID, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Its pull is waiting, so the deletion is told to it.
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		cons, err := g.env.JS.Consumer(ctx, subjects.StreamSignal, g.srv.slotConsumerName(c.ID, 0))
		if err != nil {
			return err
		}
		if n := cons.CachedInfo().NumWaiting; n == 0 {
			return errors.New("no pull waiting")
		}
		return nil
	})
	if err := g.env.JS.DeleteConsumer(ctx, subjects.StreamSignal, g.srv.slotConsumerName(c.ID, 0)); err != nil {
		t.Fatal(err)
	}
	expectClose(t, ws, websocket.StatusTryAgainLater, "signaling unavailable")
	ws2 := g.dial(g.joinURL(c.ID))
	writeFrame(t, ws2, `{"type":"again"}`)
	expectStreamerFrame(t, g, c.ID, `{"type":"again"}`)
}

// expectSockets waits until session id has want consumers of client
// frames on the signaling stream: its open websockets, on any gateway.
func expectSockets(t *testing.T, env *natstest.Env, id string, want int) {
	t.Helper()
	prefix, err := subjects.Signal(id, subjects.ToClient, "x")
	if err != nil {
		t.Fatal(err)
	}
	prefix = strings.TrimSuffix(prefix, "x")
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		stream, err := env.JS.Stream(ctx, subjects.StreamSignal)
		if err != nil {
			return err
		}
		n := 0
		lister := stream.ListConsumers(ctx)
		for info := range lister.Info() {
			if strings.HasPrefix(info.Config.FilterSubject, prefix) {
				n++
			}
		}
		if err := lister.Err(); err != nil {
			return err
		}
		if n != want {
			return fmt.Errorf("session %s has %d websocket consumers, want %d", id, n, want)
		}
		return nil
	})
}

// urlOn is a websocket URL that other's create answered, on g instead.
func (g *testGW) urlOn(other *testGW, wsURL string) string {
	return strings.Replace(wsURL, strings.TrimPrefix(other.base, "http://"), strings.TrimPrefix(g.base, "http://"), 1)
}

// framePump reads a websocket all the time, which is also what answers
// the gateway's pings.
type framePump struct {
	frames chan []byte
	done   chan error
}

func readPump(c *websocket.Conn) *framePump {
	p := &framePump{frames: make(chan []byte, 64), done: make(chan error, 1)}
	go func() {
		for {
			_, data, err := c.Read(context.Background())
			if err != nil {
				p.done <- err
				return
			}
			p.frames <- data
		}
	}()
	return p
}

// next returns the next frame, failing if the websocket ends first.
func (p *framePump) next(t *testing.T) []byte {
	t.Helper()
	select {
	case data := <-p.frames:
		return data
	case err := <-p.done:
		t.Fatalf("websocket ended: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("no frame within 10s")
	}
	return nil
}

// Websocket opcodes the raw client sees and sends (RFC 6455 5.2).
const (
	opClose byte = 0x8
	opPing  byte = 0x9
	opPong  byte = 0xA
)

// rawWS is a websocket client that does only what a test tells it to: it
// answers no ping by itself.
type rawWS struct {
	*rawConn
}

// rawWebsocket upgrades a raw connection to the websocket at wsURL.
func (g *testGW) rawWebsocket(t *testing.T, wsURL string) *rawWS {
	t.Helper()
	u, err := url.Parse(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	var key [16]byte
	_, _ = rand.Read(key[:])
	rc := g.rawDial(t)
	rc.send("GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key[:]) + "\r\n\r\n")
	_ = rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		t.Fatalf("upgrade: %v", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("upgrade answered %d: %s", resp.StatusCode, body)
	}
	return &rawWS{rc}
}

// frame reads one whole frame (the server's are unmasked) within d.
func (w *rawWS) frame(d time.Duration) (op byte, payload []byte) {
	w.t.Helper()
	_ = w.c.SetReadDeadline(time.Now().Add(d))
	var h [2]byte
	if _, err := io.ReadFull(w.br, h[:]); err != nil {
		w.t.Fatalf("no frame within %s: %v", d, err)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		if _, err := io.ReadFull(w.br, b[:]); err != nil {
			w.t.Fatal(err)
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err := io.ReadFull(w.br, b[:]); err != nil {
			w.t.Fatal(err)
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if h[1]&0x80 != 0 || n > 1<<20 {
		w.t.Fatalf("bad frame header %x, length %d", h, n)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(w.br, payload); err != nil {
		w.t.Fatal(err)
	}
	return h[0] & 0x0f, payload
}

// write sends one final frame, masked as a client's must be.
func (w *rawWS) write(op byte, payload []byte) {
	w.t.Helper()
	if len(payload) > 125 {
		w.t.Fatalf("control payload of %d bytes", len(payload))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	b := append([]byte{0x80 | op, 0x80 | byte(len(payload))}, mask[:]...)
	for i, c := range payload {
		b = append(b, c^mask[i%4])
	}
	_ = w.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := w.c.Write(b); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}
