package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/streamstack/streamstack/streamer/protocol"
)

// Signaler carries signaling frames (JSON text) between a client and its
// streamer. Send may be called from several goroutines; Recv from one.
type Signaler interface {
	Send(ctx context.Context, frame []byte) error
	Recv(ctx context.Context) ([]byte, error)
	Close() error
}

// wsSignaler is a gateway websocket.
type wsSignaler struct {
	c *websocket.Conn
}

// DialWebsocket opens the websocket URL the gateway returned for a
// session (it carries the session token). Cancelling a Recv's ctx closes
// the websocket, as coder/websocket does.
func DialWebsocket(ctx context.Context, url string) (Signaler, error) {
	c, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		return nil, fmt.Errorf("client: dial %s: %w", redact(url), err)
	}
	c.SetReadLimit(protocol.MaxSignalSize)
	return &wsSignaler{c: c}, nil
}

// redact drops the query (the session token) from a URL for errors.
func redact(url string) string {
	if i := strings.IndexByte(url, '?'); i >= 0 {
		return url[:i] + "?…"
	}
	return url
}

func (w *wsSignaler) Send(ctx context.Context, frame []byte) error {
	return w.c.Write(ctx, websocket.MessageText, frame)
}

func (w *wsSignaler) Recv(ctx context.Context) ([]byte, error) {
	for {
		typ, b, err := w.c.Read(ctx)
		if err != nil {
			return nil, err
		}
		if typ == websocket.MessageText {
			return b, nil
		}
	}
}

// Close closes the websocket with a normal closure; a connection the
// peer already closed is simply released.
func (w *wsSignaler) Close() error {
	if err := w.c.Close(websocket.StatusNormalClosure, ""); err != nil {
		_ = w.c.CloseNow()
	}
	return nil
}

// NATSSignaling is what the session service answers under "signaling"
// for create and join over NATS (gateway.Signaling on the wire).
type NATSSignaling struct {
	ConnID  string `json:"conn_id"`
	Send    string `json:"send"`
	Deliver string `json:"deliver"`
}

// NATSSignal reaches a streamer over NATS without a gateway's websocket:
// frames go as requests to the session service, which stores them for the
// streamer; the streamer's frames arrive on the connection's delivery
// subject, in the client's own inbox. The NATS connection is an API
// token's (nats.Token) with nats.CustomInboxPrefix(subjects.Inbox(id)).
type NATSSignal struct {
	nc     *nats.Conn
	send   string
	connID string

	mu  sync.Mutex
	sub *nats.Subscription
}

// NATSSignaler opens the signaling connection sig that a create or join
// answered. It subscribes before anything is sent, so no frame of the
// streamer's is missed.
func NATSSignaler(nc *nats.Conn, sig NATSSignaling) (*NATSSignal, error) {
	if sig.Send == "" || sig.Deliver == "" {
		return nil, fmt.Errorf("client: signaling answer without send and deliver subjects")
	}
	sub, err := nc.SubscribeSync(sig.Deliver)
	if err != nil {
		return nil, fmt.Errorf("client: signaling subscription: %w", err)
	}
	return &NATSSignal{nc: nc, send: sig.Send, connID: sig.ConnID, sub: sub}, nil
}

// ConnID is this connection's id.
func (n *NATSSignal) ConnID() string { return n.connID }

// Send hands a frame to the session service and waits until it is stored,
// so frames reach the streamer in order.
func (n *NATSSignal) Send(ctx context.Context, frame []byte) error {
	msg, err := n.nc.RequestWithContext(ctx, n.send, frame)
	if err != nil {
		return fmt.Errorf("client: send: %w", err)
	}
	if code := msg.Header.Get(micro.ErrorCodeHeader); code != "" {
		return fmt.Errorf("client: send: %s %s", code, msg.Header.Get(micro.ErrorHeader))
	}
	return nil
}

// Recv returns the next frame from the streamer. Flow-control and
// heartbeat messages of the delivery (status headers, no body) are skipped.
func (n *NATSSignal) Recv(ctx context.Context) ([]byte, error) {
	n.mu.Lock()
	sub := n.sub
	n.mu.Unlock()
	if sub == nil {
		return nil, ErrClosed
	}
	for {
		m, err := sub.NextMsgWithContext(ctx)
		if err != nil {
			if errors.Is(err, nats.ErrBadSubscription) || errors.Is(err, nats.ErrConnectionClosed) {
				return nil, ErrClosed
			}
			return nil, err
		}
		if len(m.Data) == 0 && m.Header.Get("Status") != "" {
			continue
		}
		return m.Data, nil
	}
}

// Close stops reading; it is safe to call more than once. The service's
// consumer for this connection goes once nobody listens.
func (n *NATSSignal) Close() error {
	n.mu.Lock()
	sub := n.sub
	n.sub = nil
	n.mu.Unlock()
	if sub != nil {
		_ = sub.Unsubscribe()
	}
	return nil
}
