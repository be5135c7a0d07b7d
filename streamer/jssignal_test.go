package streamer_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/subjects"
)

// jsSignal is a client connection's signaling straight on the signaling
// stream, as a gateway's websocket bridge relays it: the streamer's tests
// run no gateway. It publishes to the streamer's subject under a fresh
// connection id and reads that id's client subject with an ordered
// consumer.
type jsSignal struct {
	js       jetstream.JetStream
	toServer string

	mu   sync.Mutex
	msgs jetstream.MessagesContext
}

var _ client.Signaler = (*jsSignal)(nil)

func newJSSignal(ctx context.Context, js jetstream.JetStream, sessionID string) (*jsSignal, error) {
	return newJSSignalAs(ctx, js, sessionID, "")
}

// newJSSignalAs is newJSSignal for a connection id with prefix, the
// grant a gateway gives it (session.ConnPrefix).
func newJSSignalAs(ctx context.Context, js jetstream.JetStream, sessionID, prefix string) (*jsSignal, error) {
	connID := prefix + strings.ToLower(rand.Text())
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
		return nil, fmt.Errorf("signaling consumer: %w", err)
	}
	msgs, err := c.Messages()
	if err != nil {
		return nil, fmt.Errorf("signaling consumer: %w", err)
	}
	return &jsSignal{js: js, toServer: toServer, msgs: msgs}, nil
}

// Send stores a frame and waits for the ack, as the gateway does, so
// frames reach the streamer in order.
func (n *jsSignal) Send(ctx context.Context, frame []byte) error {
	_, err := n.js.PublishMsg(ctx, &nats.Msg{Subject: n.toServer, Data: frame}, jetstream.WithExpectStream(subjects.StreamSignal))
	return err
}

// Recv returns the streamer's next frame.
func (n *jsSignal) Recv(ctx context.Context) ([]byte, error) {
	n.mu.Lock()
	msgs := n.msgs
	n.mu.Unlock()
	if msgs == nil {
		return nil, client.ErrClosed
	}
	m, err := msgs.Next(jetstream.NextContext(ctx))
	if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
		return nil, client.ErrClosed
	}
	if err != nil {
		return nil, err
	}
	return m.Data(), nil
}

// Close stops reading; safe to call more than once.
func (n *jsSignal) Close() error {
	n.mu.Lock()
	msgs := n.msgs
	n.msgs = nil
	n.mu.Unlock()
	if msgs != nil {
		msgs.Stop()
	}
	return nil
}
