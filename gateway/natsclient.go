package gateway

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/auth"
	sjs "github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

// A NATS client is a connection that presented an API token to the
// embedded server (jetstream.Authenticator). It may publish only under
// subjects.ClientAPI(<its token id>) and subscribe only under
// subjects.Inbox(<its token id>), so it never touches JetStream itself:
// this service makes the consumers it reads from, pointed at its inbox,
// and stores the frames it sends. What one client can reach is what its
// token may, as over HTTP.

// ErrSignalRefused: the signaling stream did not take a NATS client's
// frame (the connection's budget, the frame's size, a full stream).
var ErrSignalRefused = errors.New("signaling refused the frame")

// Signaling tells a NATS client how to signal on one fresh connection:
// subscribe to Deliver, where the streamer's frames arrive in order, then
// send each frame as a request to Send (the answer says it is stored).
type Signaling struct {
	ConnID  string `json:"conn_id"`
	Send    string `json:"send"`
	Deliver string `json:"deliver"`
}

// EventsRequest is the body of events.subscribe: which events, from when.
type EventsRequest struct {
	// Session keeps one session's events; required for a sessions-scoped
	// token, which sees only its own sessions.
	Session string `json:"session,omitempty"`
	// Types keeps these event types ("session.created", …); empty: all.
	Types []string `json:"types,omitempty"`
	// FromStart delivers the stored events first; otherwise only new ones.
	FromStart bool `json:"from_start,omitempty"`
}

// EventsSubscription is the answer of events.subscribe: the events arrive
// on Deliver (CloudEvents JSON, one a message) while the client listens
// there; a minute after it stops, the subscription is gone.
type EventsSubscription struct {
	Deliver  string   `json:"deliver"`
	Filters  []string `json:"filters"`
	Consumer string   `json:"consumer"`
}

// natsConsumerIdle is how long a NATS client's consumer outlives the
// client's interest in its delivery subject: a client subscribes as soon
// as create, join or events.subscribe answers, and a signaling slot should
// come back soon after it leaves.
const natsConsumerIdle = 5 * time.Second

// serviceCaller is the token a service request came under, read from its
// subject (the embedded server admits a token client's publish only under
// its own id) and looked up again, so a token revoked since the client
// connected can do nothing more. write needs the sessions or admin scope.
func (s *Server) serviceCaller(ctx context.Context, subject string, write bool) (auth.Info, []string, error) {
	id, rest, err := subjects.ParseClientAPI(subject)
	if err != nil {
		return auth.Info{}, nil, badRequest("no token id in subject %q: publish under %s.<token id>", truncate(subject, 200), subjects.API)
	}
	info, err := s.tokens.Get(ctx, id)
	switch {
	case errors.Is(err, auth.ErrUnauthorized):
		return auth.Info{}, nil, err
	case err != nil:
		return auth.Info{}, nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if write && info.Scoped() == auth.ScopeRead {
		return auth.Info{}, nil, fmt.Errorf("%w: token %s is read-only", auth.ErrForbidden, info.ID)
	}
	return info, rest, nil
}

// withSignaling opens a signaling connection for caller to sess: a conn id
// signed for this session and token, and a push consumer of the streamer's
// frames for it, delivered to the caller's inbox. The consumer takes one of
// the session's signaling slots, as a websocket does.
func (s *Server) withSignaling(ctx context.Context, caller auth.Info, sess SessionWithURL) (ServiceSession, error) {
	return s.withSignalingAs(ctx, caller, sess, session.RoleOwner)
}

// withSignalingAs is withSignaling for a connection of grant (a share
// link's role, or session.RoleOwner).
func (s *Server) withSignalingAs(ctx context.Context, caller auth.Info, sess SessionWithURL, grant string) (ServiceSession, error) {
	conn := s.tokens.NATSConnID(sess.ID, caller.ID, session.ConnPrefix(grant))
	deliver, err := subjects.SignalDelivery(caller.ID, conn)
	if err != nil {
		return ServiceSession{}, err
	}
	send, _ := subjects.SignalSend(caller.ID, sess.ID, conn)
	toClient, _ := subjects.Signal(sess.ID, subjects.ToClient, conn)
	err = s.claimSignalSlot(sess.ID, func(name string) error {
		_, err := s.res.JS.CreatePushConsumer(ctx, subjects.StreamSignal, njs.ConsumerConfig{
			Name:              name,
			Description:       "signaling over NATS " + conn,
			FilterSubject:     toClient,
			DeliverSubject:    deliver,
			DeliverPolicy:     njs.DeliverAllPolicy,
			AckPolicy:         njs.AckNonePolicy,
			InactiveThreshold: natsConsumerIdle,
			Replicas:          1,
			MemoryStorage:     true,
		})
		return err
	})
	if err != nil {
		return ServiceSession{}, err
	}
	return ServiceSession{SessionWithURL: sess, Signaling: Signaling{ConnID: conn, Send: send, Deliver: deliver}}, nil
}

// serviceSignal stores one frame from a NATS client for its streamer. The
// conn id's signature says this caller opened this connection to this
// session (withSignaling, after the ownership check), so no record is read.
func (s *Server) serviceSignal(ctx context.Context, caller auth.Info, rest []string, data []byte) (any, error) {
	if len(rest) != 3 {
		return nil, badRequest("signal subject is %s.<token id>.%s.<session>.<conn>", subjects.API, subjects.EndpointSignal)
	}
	id, conn := rest[1], rest[2]
	if !s.tokens.VerifyNATSConnID(conn, id, caller.ID) {
		return nil, fmt.Errorf("%w: no signaling connection %s of this token to session %s: create or join first", session.ErrNotFound, truncate(conn, 64), id)
	}
	if err := ValidateFrame(data); err != nil {
		return nil, badRequest("%v", err)
	}
	to, err := subjects.Signal(id, subjects.ToStreamer, conn)
	if err != nil {
		return nil, badRequest("%v", err)
	}
	pctx, cancel := context.WithTimeout(ctx, s.cfg.PublishTimeout)
	defer cancel()
	_, err = s.res.JS.PublishMsg(pctx, &nats.Msg{Subject: to, Data: data}, njs.WithExpectStream(subjects.StreamSignal))
	if lerr := sjs.LimitError(err); errors.Is(lerr, sjs.ErrLimit) {
		return nil, fmt.Errorf("%w: %w", ErrSignalRefused, lerr)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: store frame: %w", ErrUnavailable, err)
	}
	return struct{}{}, nil
}

// serviceEvents makes an event subscription for caller: a push consumer
// of the event stream, delivered to its inbox, named after the token and
// one of its Config.NATSEventSubscriptions slots, so a token holds a
// bounded number and nobody else's.
func (s *Server) serviceEvents(ctx context.Context, caller auth.Info, _ []string, data []byte) (any, error) {
	var req EventsRequest
	if err := decodeJSON(data, &req, true); err != nil {
		return nil, err
	}
	if caller.Scoped() == auth.ScopeSessions {
		if req.Session == "" {
			return nil, fmt.Errorf("%w: a sessions token follows the events of one of its sessions: set session", auth.ErrForbidden)
		}
		if err := s.checkOwn(ctx, caller, req.Session); err != nil {
			return nil, err
		}
	}
	if len(req.Types) > 16 {
		return nil, badRequest("at most 16 types")
	}
	var filters []string
	for _, typ := range append([]string{}, req.Types...) {
		f, err := subjects.EventFilter(req.Session, typ)
		if err != nil {
			return nil, badRequest("event filter: %v", err)
		}
		filters = append(filters, f)
	}
	if len(filters) == 0 {
		f, err := subjects.EventFilter(req.Session, "")
		if err != nil {
			return nil, badRequest("event filter: %v", err)
		}
		filters = []string{f}
	}
	policy := njs.DeliverNewPolicy
	if req.FromStart {
		policy = njs.DeliverAllPolicy
	}
	for n := range s.cfg.NATSEventSubscriptions {
		name := "ev_" + caller.ID + "_" + strconv.Itoa(n)
		deliver, err := subjects.EventsDelivery(caller.ID, strconv.Itoa(n))
		if err != nil {
			return nil, err
		}
		_, err = s.res.JS.CreatePushConsumer(ctx, subjects.StreamEvents, njs.ConsumerConfig{
			Name:              name,
			Description:       "events over NATS for token " + caller.ID,
			FilterSubjects:    filters,
			DeliverSubject:    deliver,
			DeliverPolicy:     policy,
			AckPolicy:         njs.AckNonePolicy,
			InactiveThreshold: natsConsumerIdle,
			MemoryStorage:     true,
		})
		switch {
		case errors.Is(err, njs.ErrConsumerExists):
			continue
		case err != nil:
			return nil, fmt.Errorf("%w: events consumer: %w", ErrUnavailable, err)
		}
		return EventsSubscription{Deliver: deliver, Filters: filters, Consumer: name}, nil
	}
	return nil, fmt.Errorf("%w: token %s has %d event subscriptions, its most (--nats-event-subscriptions); stop listening on one, it ends a minute later",
		ErrQuota, caller.ID, s.cfg.NATSEventSubscriptions)
}
