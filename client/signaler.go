package client

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/streamer/protocol"
	"github.com/streamstack/streamstack/subjects"
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

// NATSSignal reaches a streamer through JetStream without a gateway: it
// publishes to the streamer's subject under its own connection id and reads
// the client subject of that id with an ordered consumer.
type NATSSignal struct {
	js       jetstream.JetStream
	toServer string
	connID   string

	mu   sync.Mutex
	msgs jetstream.MessagesContext
}

// NATSSignaler opens a new client connection (a fresh connection id) to
// the streamer of sessionID. Every JetStream call takes ctx.
func NATSSignaler(ctx context.Context, js jetstream.JetStream, sessionID string) (*NATSSignal, error) {
	connID := strings.ToLower(rand.Text())
	toServer, err := subjects.Signal(sessionID, subjects.ToStreamer, connID)
	if err != nil {
		return nil, err
	}
	toClient, err := subjects.Signal(sessionID, subjects.ToClient, connID)
	if err != nil {
		return nil, err
	}
	c, err := js.OrderedConsumer(ctx, subjects.StreamSignal, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{toClient},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("client: signaling consumer: %w", err)
	}
	msgs, err := c.Messages()
	if err != nil {
		return nil, fmt.Errorf("client: signaling consumer: %w", err)
	}
	return &NATSSignal{js: js, toServer: toServer, connID: connID, msgs: msgs}, nil
}

// ConnID is this connection's id, the last token of its subjects.
func (n *NATSSignal) ConnID() string { return n.connID }

// Send stores a frame in the signaling stream and waits for the ack, as
// the gateway does, so frames reach the streamer in order.
func (n *NATSSignal) Send(ctx context.Context, frame []byte) error {
	_, err := n.js.PublishMsg(ctx, &nats.Msg{Subject: n.toServer, Data: frame},
		jetstream.WithExpectStream(subjects.StreamSignal))
	if err != nil {
		return fmt.Errorf("client: send: %w", err)
	}
	return nil
}

// Recv returns the next frame from the streamer.
func (n *NATSSignal) Recv(ctx context.Context) ([]byte, error) {
	n.mu.Lock()
	msgs := n.msgs
	n.mu.Unlock()
	if msgs == nil {
		return nil, ErrClosed
	}
	m, err := msgs.Next(jetstream.NextContext(ctx))
	if err != nil {
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return nil, ErrClosed
		}
		return nil, err
	}
	return m.Data(), nil
}

// Close stops reading; it is safe to call more than once.
func (n *NATSSignal) Close() error {
	n.mu.Lock()
	msgs := n.msgs
	n.msgs = nil
	n.mu.Unlock()
	if msgs != nil {
		msgs.Stop()
	}
	return nil
}
