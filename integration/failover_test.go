package integration

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/session"
)

// Two `streamstack gateway` processes on one NATS with an agent; a Go
// client signals through the first; kill -9 of that gateway when the
// streamer's offer reaches the client (mid-signaling): the client's
// websocket drops, it joins through the other gateway, finishes signaling
// there and streams, for an ephemeral session as for a joinable one. A
// client that holds only the session URL does the same with the resume
// credential its first websocket got, and no API token.
func TestGatewayKilledMidSignaling(t *testing.T) {
	t.Run("ephemeral", func(t *testing.T) { gatewayKilledMidSignaling(t, false, false) })
	t.Run("joinable", func(t *testing.T) { gatewayKilledMidSignaling(t, true, false) })
	t.Run("url only", func(t *testing.T) { gatewayKilledMidSignaling(t, false, true) })
}

func gatewayKilledMidSignaling(t *testing.T, joinable, urlOnly bool) {
	checkLeaks(t)
	st := startStack(t, stackOptions{})
	ctx := testCtx(t)
	ready := `msg="gateway ready" url=(\S+)`
	args := []string{"gateway", "--nats-url", st.NATSURL, "--http-addr", "127.0.0.1:0"}
	env := []string{"STREAMSTACK_LOG_LEVEL=info"}
	a, b := startProc(t, ready, env, args...), startProc(t, ready, env, args...)
	gwA := &client.Gateway{BaseURL: strings.TrimSuffix(a.wait(t, ctx)[1], "/"), Token: st.token}
	gwB := &client.Gateway{BaseURL: strings.TrimSuffix(b.wait(t, ctx)[1], "/"), Token: st.token}

	info, err := gwA.Create(ctx, client.CreateRequest{App: "test-pattern", Joinable: joinable, Screen: &session.Screen{Width: 640, Height: 360, FPS: 30}})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu      sync.Mutex
		killed  bool
		killAt  time.Time
		dials   []string
		retries []error
	)
	var frames frameLog
	gateways := []*client.Gateway{gwA, gwB}
	if urlOnly {
		gateways = []*client.Gateway{{BaseURL: gwA.BaseURL}, {BaseURL: gwB.BaseURL}}
	}
	f := &client.Failover{
		Gateways: gateways,
		Resume:   urlOnly,
		Options:  client.Options{OnFrame: frames.onFrame, IncludeLoopback: true, Log: slog.New(slog.DiscardHandler)},
		Backoff:  client.Backoff{Initial: 50 * time.Millisecond, Max: 500 * time.Millisecond},
		Dial: func(ctx context.Context, url string) (client.Signaler, error) {
			mu.Lock()
			first := len(dials) == 0
			dials = append(dials, url)
			mu.Unlock()
			sig, err := client.DialWebsocket(ctx, url)
			if err != nil || !first {
				return sig, err
			}
			// The first connection's gateway dies as the streamer's offer
			// reaches the client.
			return &killOnOffer{Signaler: sig, kill: func() {
				a.kill(t)
				mu.Lock()
				killed, killAt = true, time.Now()
				mu.Unlock()
			}}, nil
		},
		OnRetry: func(_ int, err error) {
			mu.Lock()
			retries = append(retries, err)
			mu.Unlock()
		},
	}
	peer, joined, err := f.Connect(ctx, info)
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	mu.Lock()
	resumed := time.Since(killAt)
	mu.Unlock()
	if err := peer.WaitFrames(ctx, 30); err != nil {
		t.Fatal(err)
	}
	frames.checkMoving(t)
	mu.Lock()
	defer mu.Unlock()
	if !killed || len(retries) == 0 {
		t.Fatalf("gateway killed %v, retries %v: the failover was not exercised", killed, retries)
	}
	last := dials[len(dials)-1]
	if !strings.HasPrefix(last, "ws://"+strings.TrimPrefix(gwB.BaseURL, "http://")+"/") {
		t.Fatalf("connected through %s, want the surviving gateway %s", last, gwB.BaseURL)
	}
	if joined.URL == info.URL {
		t.Fatal("the connection that streams used the first URL")
	}
	t.Logf("gateway killed mid-signaling: connected through %s %s after the kill, %d retries (%v)",
		gwB.BaseURL, resumed.Round(time.Millisecond), len(retries), retries)

	rec := st.waitStatus(t, info.ID, func(s *session.Session) bool { return s.Status == session.StatusActive && s.ClientConnected })
	if rec.Status.Ended() {
		t.Fatalf("session %s", rec.Status)
	}
	if err := gwB.Delete(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	st.waitStatus(t, info.ID, func(s *session.Session) bool { return s.Status.Ended() })
	waitNothingLeft(t, info.ID)
	if urlOnly {
		return
	}

	// `streamstack probe` given both gateways, the dead one first: it
	// creates through the one that answers, streams, and deletes there.
	probe := exec.CommandContext(ctx, binary, "probe", "--url", gwA.BaseURL+","+gwB.BaseURL, "--json", "--duration", "500ms",
		"--width", "640", "--height", "360", "--joinable="+strconv.FormatBool(joinable))
	probe.Env = append(os.Environ(), "STREAMSTACK_TOKEN="+st.token)
	out, err := probe.Output()
	if err != nil {
		t.Fatalf("probe through a dead and a live gateway: %v: %s", err, out)
	}
	var res struct {
		Session       string `json:"session"`
		FramesDecoded int    `json:"frames_decoded"`
	}
	if err := json.Unmarshal(out, &res); err != nil || res.FramesDecoded == 0 {
		t.Fatalf("probe answered %s (%v)", out, err)
	}
	st.waitStatus(t, res.Session, func(s *session.Session) bool { return s.Status.Ended() })
	waitNothingLeft(t, res.Session)
}

// killOnOffer runs kill when the streamer's offer arrives, before the
// client can answer it.
type killOnOffer struct {
	client.Signaler
	once sync.Once
	kill func()
}

func (k *killOnOffer) Recv(ctx context.Context) ([]byte, error) {
	b, err := k.Signaler.Recv(ctx)
	if err == nil {
		var m struct {
			Type string `json:"type"`
		}
		if json.Unmarshal(b, &m) == nil && m.Type == "offer" {
			k.once.Do(k.kill)
		}
	}
	return b, err
}
