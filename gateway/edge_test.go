package gateway

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/promtest"
)

// The HTTP edge: timeouts, the per-IP connection cap, and answers that do
// not wait for a body. Clients here speak raw HTTP/1.1 over loopback so a
// test controls exactly what is sent and when.

// rawConn is one client connection and its reader.
type rawConn struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

// rawDial connects to the gateway for test t (a subtest's own t).
func (g *testGW) rawDial(t testing.TB) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(g.base, "http://"), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{t: t, c: c, br: bufio.NewReader(c)}
}

// send writes a request's head (and whatever body follows it in head).
func (rc *rawConn) send(head string) {
	rc.t.Helper()
	_ = rc.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(rc.c, head); err != nil {
		rc.t.Fatalf("send: %v", err)
	}
}

// get sends a keep-alive GET of path.
func (rc *rawConn) get(path string) {
	rc.t.Helper()
	rc.send("GET " + path + " HTTP/1.1\r\nHost: gateway\r\n\r\n")
}

// response reads one answer that must come within d.
func (rc *rawConn) response(d time.Duration) (*http.Response, []byte) {
	rc.t.Helper()
	resp, body, err := rc.tryResponse(d)
	if err != nil {
		rc.t.Fatalf("no answer within %s: %v", d, err)
	}
	return resp, body
}

func (rc *rawConn) tryResponse(d time.Duration) (*http.Response, []byte, error) {
	_ = rc.c.SetReadDeadline(time.Now().Add(d))
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// closedWithin checks the server ends the connection within d: the next
// read is the end of the stream (or a reset), not a timeout and not data.
func (rc *rawConn) closedWithin(d time.Duration) {
	rc.t.Helper()
	_ = rc.c.SetReadDeadline(time.Now().Add(d))
	b, err := rc.br.ReadByte()
	switch {
	case err == nil:
		rc.t.Fatalf("connection still sends data (%q) instead of closing", b)
	case errors.Is(err, os.ErrDeadlineExceeded):
		rc.t.Fatalf("connection still open after %s", d)
	}
}

// status asks for /1.0/status on the connection and checks its 200.
func (rc *rawConn) status() *http.Response {
	rc.t.Helper()
	rc.get("/1.0/status")
	resp, body := rc.response(10 * time.Second)
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"status":"success"`) {
		rc.t.Fatalf("status answer %d: %s", resp.StatusCode, body)
	}
	return resp
}

func TestHTTPEdgeConfigValidate(t *testing.T) {
	refusesConfig(t, []configCase{
		{"read timeout", func(c *Config) { c.HTTPReadTimeout = 0 }, "HTTPReadTimeout"},
		{"write timeout", func(c *Config) { c.HTTPWriteTimeout = -time.Second }, "HTTPWriteTimeout"},
		{"idle timeout", func(c *Config) { c.HTTPIdleTimeout = 0 }, "HTTPIdleTimeout"},
		{"conns per ip", func(c *Config) { c.HTTPMaxConnsPerIP = -1 }, "HTTPMaxConnsPerIP"},
	})
	c := DefaultConfig()
	c.HTTPMaxConnsPerIP = 0 // no cap
	if err := c.Validate(); err != nil {
		t.Fatalf("no per-IP cap: %v", err)
	}
}

// A client that sends a request's headers and never its body is cut at the
// read timeout, answered 408; other clients are served meanwhile.
func TestHTTPSlowBodyCutAtReadTimeout(t *testing.T) {
	const readTimeout = 500 * time.Millisecond
	g := newTestGW(t, func(c *Config) { c.HTTPReadTimeout = readTimeout })

	slow := g.rawDial(t)
	slow.send("POST /1.0/sessions HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer " + g.token +
		"\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n")

	// Another client is served while the slow one waits.
	g.call(http.MethodGet, "/1.0/status", nil).ok(t, http.StatusOK, nil)
	g.create(nil)

	resp, body := slow.response(10 * readTimeout)
	if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), `"status_code":408`) ||
		!strings.Contains(string(body), "read timeout") {
		t.Fatalf("slow body answered %d: %s", resp.StatusCode, body)
	}
	if !resp.Close {
		t.Errorf("408 without Connection: close")
	}
	slow.closedWithin(10 * readTimeout)
}

// A keep-alive connection with no next request is closed at the idle
// timeout.
func TestHTTPIdleKeepAliveClosed(t *testing.T) {
	const idleTimeout = 300 * time.Millisecond
	g := newTestGW(t, func(c *Config) { c.HTTPIdleTimeout = idleTimeout })

	idle := g.rawDial(t)
	if idle.status().Close {
		t.Fatal("the status answer closed the connection; want keep-alive")
	}
	idle.closedWithin(10 * idleTimeout)
}

// An unauthenticated request with a body is answered at once, in the error
// envelope with "Connection: close", without waiting for a body that never
// comes: not after the read timeout, and not at all where it is long.
func TestHTTPUnauthenticatedBodyAnsweredAtOnce(t *testing.T) {
	g := newTestGW(t, func(c *Config) { c.HTTPReadTimeout = 5 * time.Minute })
	// Within: far below the read timeout, so only an answer that does not
	// wait for the body comes in time.
	const within = 10 * time.Second
	for _, tc := range []struct {
		name, head string
		status     int
	}{
		{"no token, large body", "POST /1.0/sessions HTTP/1.1\r\nHost: gateway\r\nContent-Length: 1000000\r\n\r\n", http.StatusUnauthorized},
		{"no token, small body", "POST /1.0/sessions/ HTTP/1.1\r\nHost: gateway\r\nContent-Length: 1000\r\n\r\n", http.StatusUnauthorized},
		{"no token, chunked", "POST /1.0/sessions HTTP/1.1\r\nHost: gateway\r\nTransfer-Encoding: chunked\r\n\r\n", http.StatusUnauthorized},
		{"bad token", "POST /1.0/sessions/x/join HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer nope\r\nContent-Length: 1000\r\n\r\n", http.StatusUnauthorized},
		{"unknown route", "POST /1.0/nowhere HTTP/1.1\r\nHost: gateway\r\nContent-Length: 1000\r\n\r\n", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := g.rawDial(t)
			rc.send(tc.head)
			resp, body := rc.response(within)
			if resp.StatusCode != tc.status || !strings.Contains(string(body), fmt.Sprintf(`"status_code":%d`, tc.status)) ||
				!strings.Contains(string(body), `"type":"error"`) {
				t.Fatalf("answer %d, want %d in the error envelope: %s", resp.StatusCode, tc.status, body)
			}
			if !resp.Close {
				t.Errorf("answer without Connection: close (%v)", resp.Header)
			}
			rc.closedWithin(within)
		})
	}
	// A request whose body is read keeps its connection.
	rc := g.rawDial(t)
	const create = `{"app":"test-pattern"}`
	rc.send(fmt.Sprintf("POST /1.0/sessions HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n\r\n%s", g.token, len(create), create))
	resp, body := rc.response(within)
	if resp.StatusCode != http.StatusCreated || resp.Close {
		t.Fatalf("answer %d close=%v, want 201 keeping the connection: %s", resp.StatusCode, resp.Close, body)
	}
	rc.status()
}

// The N+1-th connection from one address is closed while N are open, and
// one is accepted again once one of them closes.
func TestHTTPConnsPerIPCapped(t *testing.T) {
	const maxConns = 3
	g := newTestGW(t, func(c *Config) { c.HTTPMaxConnsPerIP = maxConns })

	var open []*rawConn
	for range maxConns {
		rc := g.rawDial(t)
		rc.status()
		open = append(open, rc)
	}

	over := g.rawDial(t)
	_, _ = io.WriteString(over.c, "GET /1.0/status HTTP/1.1\r\nHost: gateway\r\n\r\n") // may already be reset
	if resp, body, err := over.tryResponse(10 * time.Second); err == nil {
		t.Fatalf("connection %d answered %d: %s", maxConns+1, resp.StatusCode, body)
	} else if errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("connection %d neither answered nor closed", maxConns+1)
	}

	// The open ones are still served.
	for _, rc := range open {
		rc.status()
	}

	// One closes; its slot comes back once the server has seen it go.
	_ = open[0].c.Close()
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		rc := g.rawDial(t)
		defer rc.c.Close()
		if _, err := io.WriteString(rc.c, "GET /1.0/status HTTP/1.1\r\nHost: gateway\r\n\r\n"); err != nil {
			return err
		}
		resp, _, err := rc.tryResponse(10 * time.Second)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %d", resp.StatusCode)
		}
		return nil
	})

	// The refusals are counted.
	for _, rc := range open[1:] {
		_ = rc.c.Close()
	}
	natstest.CheckFor(t, 10*time.Second, 10*time.Millisecond, func() error {
		m, err := promtest.TryScrape(g.base + "/metrics?api_token=" + g.token)
		if err != nil {
			return err
		}
		if v, ok := m.Value("streamstack_gateway_connections_refused_total"); !ok || v < 1 {
			return fmt.Errorf("refused %v (%v), want at least 1", v, ok)
		}
		return nil
	})
}

// A signaling websocket outlives the HTTP read, write and idle timeouts:
// frames cross both ways for three times as long.
func TestWebsocketOutlivesHTTPTimeouts(t *testing.T) {
	const timeout = time.Second
	g := newTestGW(t, func(c *Config) {
		c.HTTPReadTimeout, c.HTTPWriteTimeout, c.HTTPIdleTimeout = timeout, timeout, timeout
	})
	c := g.create(nil)
	ws := g.dial(c.URL)
	st := g.streamer(c.ID)

	end := time.Now().Add(3 * timeout)
	tick := time.NewTicker(timeout / 4)
	defer tick.Stop()
	for i := 0; ; i++ {
		frame := fmt.Sprintf(`{"type":"candidate","n":%d}`, i)
		writeFrame(t, ws, frame)
		data, connID := st.next()
		if string(data) != frame {
			t.Fatalf("streamer got %s, want %s", data, frame)
		}
		answer := fmt.Sprintf(`{"type":"answer","n":%d}`, i)
		g.sendToClient(c.ID, connID, []byte(answer))
		if got := readFrame(t, ws); string(got) != answer {
			t.Fatalf("client got %s, want %s", got, answer)
		}
		if time.Now().After(end) {
			break
		}
		<-tick.C // pace the frames; the deadlines are what the test waits out
	}
}
