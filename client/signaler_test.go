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
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
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

// The session service's side is played here by a plain responder: the
// signaler's contract is requests to Send and a subscription on Deliver.
func TestNATSSignaler(t *testing.T) {
	env := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sent := make(chan string, 4)
	svc, err := env.Conn.Subscribe("svc.send", func(m *nats.Msg) {
		sent <- string(m.Data)
		if string(m.Data) == "refuse" {
			h := nats.Header{}
			h.Set(micro.ErrorCodeHeader, "429")
			h.Set(micro.ErrorHeader, "signaling refused the frame")
			_ = m.RespondMsg(&nats.Msg{Header: h})
			return
		}
		_ = m.Respond([]byte(`{}`))
	})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = svc.Unsubscribe() }()
	if _, err := client.NATSSignaler(env.Conn, client.NATSSignaling{ConnID: "c1"}); err == nil {
		t.Fatal("a signaling answer without subjects was taken")
	}
	sig, err := client.NATSSignaler(env.Conn, client.NATSSignaling{ConnID: "c1", Send: "svc.send", Deliver: "inbox.c1"})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = sig.Close() }()
	if sig.ConnID() != "c1" {
		t.Fatalf("conn id %q", sig.ConnID())
	}

	if err := sig.Send(ctx, []byte(`{"type":"discover"}`)); err != nil {
		t.Fatal(err)
	}
	if got := <-sent; got != `{"type":"discover"}` {
		t.Fatalf("service got %q", got)
	}
	if err := sig.Send(ctx, []byte("refuse")); err == nil || !strings.Contains(err.Error(), "429") {
		t.Fatalf("a refused frame: %v", err)
	}

	// Frames delivered to it arrive in order; a heartbeat is skipped.
	hb := nats.NewMsg("inbox.c1")
	hb.Header.Set("Status", "100")
	for _, m := range []*nats.Msg{{Subject: "inbox.c1", Data: []byte("one")}, hb, {Subject: "inbox.c1", Data: []byte("two")}} {
		if err := env.Conn.PublishMsg(m); err != nil {
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
