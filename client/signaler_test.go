package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/subjects"
)

func TestWebsocketSignaler(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("token") != "secret" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer func() { _ = c.CloseNow() }()
		for { // echo, upper-cased, as a stand-in for the gateway
			typ, b, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, []byte(strings.ToUpper(string(b)))); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")

	if _, err := client.DialWebsocket(ctx, url+"/ws?token=wrong"); err == nil || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("dial with a bad token: %v (the token must not leak into errors)", err)
	}
	sig, err := client.DialWebsocket(ctx, url+"/ws?token=secret")
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Send(ctx, []byte(`{"type":"discover"}`)); err != nil {
		t.Fatal(err)
	}
	b, err := sig.Recv(ctx)
	if err != nil || string(b) != `{"TYPE":"DISCOVER"}` {
		t.Fatalf("recv %s %v", b, err)
	}
	if err := sig.Close(); err != nil {
		t.Fatal(err)
	}
	if err := sig.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

func TestNATSSignaler(t *testing.T) {
	env := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sig, err := client.NATSSignaler(ctx, env.JS, "sess1")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sig.Close() }()

	// What the client sends lands on the streamer subject of its conn id.
	if err := sig.Send(ctx, []byte(`{"type":"discover"}`)); err != nil {
		t.Fatal(err)
	}
	all, _ := subjects.SignalToStreamerAll("sess1")
	c, err := env.JS.OrderedConsumer(ctx, subjects.StreamSignal, jetstream.OrderedConsumerConfig{FilterSubjects: []string{all}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Next(jetstream.FetchMaxWait(5 * time.Second))
	if err != nil {
		t.Fatal(err)
	}
	_, _, conn, err := subjects.ParseSignal(m.Subject())
	if err != nil || conn != sig.ConnID() || string(m.Data()) != `{"type":"discover"}` {
		t.Fatalf("%s %s %v", m.Subject(), m.Data(), err)
	}

	// Frames published for it before or after it reads arrive in order.
	to, _ := subjects.Signal("sess1", subjects.ToClient, sig.ConnID())
	for _, s := range []string{"one", "two"} {
		if err := env.Conn.Publish(to, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	for _, want := range []string{"one", "two"} {
		b, err := sig.Recv(ctx)
		if err != nil || string(b) != want {
			t.Fatalf("recv %q %v, want %q", b, err, want)
		}
	}

	// Recv honours its context and Close.
	short, cancelShort := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancelShort()
	if _, err := sig.Recv(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("recv with expired ctx: %v", err)
	}
	if err := sig.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := sig.Recv(ctx); !errors.Is(err, client.ErrClosed) {
		t.Fatalf("recv after close: %v", err)
	}
}
