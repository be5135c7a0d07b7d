package gateway

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/subjects"
)

// The per-session cap on signaling websockets (Config.WSMaxPerSession)
// holds across every gateway on the same NATS, while gateways keep no
// state and do not know of each other. What is counted is what each
// websocket holds anyway: its consumer of the client's frames on the
// signaling stream. That consumer is named after a slot of its session,
// "ws_<session>_<n>_<tag>" for n below the cap, and the first free slot is
// claimed by creating it: JetStream refuses to create a consumer whose name
// is taken (ErrConsumerExists), so two gateways racing for one slot get
// one each, and a session whose every slot is taken has its cap of
// websockets open. There is no counter to drift and no entry to refresh:
// closing a websocket deletes its consumer, which frees the slot at once.
//
// A gateway that dies without deleting its consumers leaves their slots
// taken until JetStream drops them as inactive (consumerInactiveThreshold,
// a minute after their last pull); a client that reconnects through
// another gateway meanwhile uses one of the other slots.
//
// The slots of a session are probed in order, one create each, so the cap
// is bounded (maxSocketSlots) to keep a refusal cheap.

// maxSocketSlots bounds Config.WSMaxPerSession.
const maxSocketSlots = 64

// slotConsumerName names the signaling consumer that holds slot n of
// session id's connections: "ws_<session>_<n>_<tag>". Session ids are
// subject tokens ([A-Za-z0-9_-]) and the slot and tag are the last two
// parts, so no two sessions' names meet. The tag is keyed
// (auth.Tokens.Tag): every gateway computes the same names, while a
// streamer, whose NATS user may pull from a signaling consumer whose name
// it knows, cannot find another session's.
func (s *Server) slotConsumerName(id string, n int) string {
	slot := id + "_" + strconv.Itoa(n)
	return "ws_" + slot + "_" + s.tokens.Tag("ws-slot", slot)
}

// createSignalConsumer creates cfg as the consumer of a new websocket of
// session id in the first free slot of its WSMaxPerSession, or refuses it
// with ErrTooManySockets when every slot is taken. With no cap the consumer
// gets a generated name.
func (s *Server) createSignalConsumer(ctx context.Context, id string, cfg njs.ConsumerConfig) (njs.Consumer, error) {
	var cons njs.Consumer
	err := s.claimSignalSlot(id, func(name string) (err error) {
		cfg.Name = name
		cons, err = s.res.JS.CreateConsumer(ctx, subjects.StreamSignal, cfg)
		return err
	})
	return cons, err
}

// claimSignalSlot runs create with the name of each slot of session id in
// turn until one is free (create does not fail with ErrConsumerExists), or
// once with "" (a generated name) when there is no cap. A NATS client's
// signaling connection (natsclient.go) takes a slot as a websocket does.
func (s *Server) claimSignalSlot(id string, create func(name string) error) error {
	if s.cfg.WSMaxPerSession == 0 {
		if err := create(""); err != nil {
			return fmt.Errorf("%w: signaling consumer: %w", ErrUnavailable, err)
		}
		return nil
	}
	for n := range s.cfg.WSMaxPerSession {
		err := create(s.slotConsumerName(id, n))
		switch {
		case errors.Is(err, njs.ErrConsumerExists):
			continue // another connection of the session holds the slot
		case err != nil:
			return fmt.Errorf("%w: signaling consumer: %w", ErrUnavailable, err)
		}
		return nil
	}
	return fmt.Errorf("%w: session %s has %d signaling connections open, the most one session may have (--ws-max-per-session); close one first",
		ErrTooManySockets, id, s.cfg.WSMaxPerSession)
}
