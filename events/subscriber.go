package events

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wmjs "github.com/ThreeDotsLabs/watermill-nats/v2/pkg/jetstream"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/subjects"
)

// ephemeralInactive is how long the server keeps an ephemeral consumer
// nobody pulls from: a subscriber that vanished leaves nothing for long.
const ephemeralInactive = 30 * time.Second

// closeTimeout bounds Close's wait for the connection to drain.
const closeTimeout = 5 * time.Second

// Handler handles one event. Returning nil acks it; an error has it
// delivered again after Config.RetryDelay, before any later event.
type Handler func(ctx context.Context, d *Delivery) error

// Subscriber consumes the event stream over its own NATS connection.
type Subscriber struct {
	cfg     Config
	log     *slog.Logger
	filters []string

	nc         *nats.Conn
	connClosed chan struct{}
	js         njs.JetStream
	wm         *wmjs.Subscriber

	guard     *guard
	fatal     chan error
	apps      *appCache
	ready     chan struct{}
	readyOnce sync.Once

	mu       sync.Mutex
	ran      bool
	closed   bool
	consumer string // the consumer's name once Run created it
}

// NewSubscriber validates cfg and connects; Run consumes and Close lets go
// of the connection.
func NewSubscriber(cfg Config) (*Subscriber, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	filters, _ := cfg.Filter.subjects() // checked by Validate
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	s := &Subscriber{
		cfg:        cfg,
		log:        log,
		filters:    filters,
		connClosed: make(chan struct{}),
		guard:      newGuard(),
		fatal:      make(chan error, 1),
		apps:       newAppCache(),
		ready:      make(chan struct{}),
	}
	if s.cfg.Name == "" {
		s.cfg.Name = DefaultConfig().Name
	}
	opts := append([]nats.Option{
		nats.Name(s.cfg.Name), nats.MaxReconnects(-1),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { log.Debug("events: NATS", "err", err) }),
	}, cfg.NATSOptions...)
	opts = append(opts, nats.ClosedHandler(func(*nats.Conn) { close(s.connClosed) }))
	var err error
	if cfg.Dial != nil {
		s.nc, err = cfg.Dial(opts...)
	} else {
		s.nc, err = nats.Connect(cfg.URL, opts...)
	}
	if err != nil {
		return nil, fmt.Errorf("events: connect to NATS: %w", err)
	}
	if s.js, err = njs.New(s.nc); err != nil {
		s.nc.Close()
		return nil, err
	}
	s.wm, err = wmjs.NewSubscriber(wmjs.SubscriberConfig{
		Conn: s.nc,
		// watermill logs a line per message at info.
		Logger:              watermill.NewSlogLoggerWithLevelMapping(log, map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug}),
		AckWaitTimeout:      cfg.AckWait,
		ResourceInitializer: s.initConsumer,
		ConsumeOptions:      []njs.PullConsumeOpt{njs.ConsumeErrHandler(s.consumeErr)},
		Unmarshaler:         unmarshaler{},
	})
	if err != nil {
		s.nc.Close()
		return nil, fmt.Errorf("events: watermill subscriber: %w", err)
	}
	return s, nil
}

// Conn is the subscriber's own connection, for metrics on it; do not
// close it, Close does.
func (s *Subscriber) Conn() *nats.Conn { return s.nc }

// Ready is closed once Run has made its consumer: from then on, whatever
// is published reaches it (an ephemeral one "from now" starts there).
func (s *Subscriber) Ready() <-chan struct{} { return s.ready }

// Consumer is the name of the JetStream consumer once Run created it.
func (s *Subscriber) Consumer() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.consumer
}

// initConsumer is watermill's ResourceInitializer: instead of deriving a
// stream from the topic, it binds the events stream and makes the consumer
// the config describes. One message in flight at a time keeps events in
// stream order even when one is delivered again.
func (s *Subscriber) initConsumer(ctx context.Context, js njs.JetStream, _ string) (njs.Consumer, func(context.Context, watermill.LoggerAdapter), error) {
	stream, err := js.Stream(ctx, subjects.StreamEvents)
	if err != nil {
		return nil, nil, fmt.Errorf("events: stream %s: %w", subjects.StreamEvents, err)
	}
	cc := njs.ConsumerConfig{
		Durable:        s.cfg.Durable,
		Description:    "streamstack events subscriber",
		AckPolicy:      njs.AckExplicitPolicy,
		AckWait:        s.cfg.AckWait,
		MaxAckPending:  1,
		FilterSubjects: s.filters,
		DeliverPolicy:  njs.DeliverNewPolicy,
	}
	switch {
	case s.cfg.StartSeq > 0:
		cc.DeliverPolicy, cc.OptStartSeq = njs.DeliverByStartSequencePolicy, s.cfg.StartSeq
	case s.cfg.FromStart:
		cc.DeliverPolicy = njs.DeliverAllPolicy
	}
	if s.cfg.Durable == "" {
		cc.InactiveThreshold = ephemeralInactive
	} else {
		// An existing durable keeps its position; filters and timings follow
		// the config.
		existing, err := stream.Consumer(ctx, s.cfg.Durable)
		switch {
		case err == nil:
			old := existing.CachedInfo().Config
			cc.DeliverPolicy, cc.OptStartSeq, cc.OptStartTime = old.DeliverPolicy, old.OptStartSeq, old.OptStartTime
		case !errors.Is(err, njs.ErrConsumerNotFound):
			return nil, nil, fmt.Errorf("events: consumer %s: %w", s.cfg.Durable, err)
		}
	}
	cons, err := stream.CreateOrUpdateConsumer(ctx, cc)
	if err != nil {
		return nil, nil, fmt.Errorf("events: consumer: %w", err)
	}
	s.mu.Lock()
	s.consumer = cons.CachedInfo().Name
	s.mu.Unlock()
	s.readyOnce.Do(func() { close(s.ready) })
	return &guardedConsumer{Consumer: cons, g: s.guard}, nil, nil
}

// consumeErr sees the pull consumer's errors; those that end it end Run.
func (s *Subscriber) consumeErr(_ njs.ConsumeContext, err error) {
	gone := errors.Is(err, njs.ErrConsumerDeleted) || errors.Is(err, njs.ErrBadRequest) || errors.Is(err, njs.ErrConnectionClosed)
	if !gone && errors.Is(err, njs.ErrNoHeartbeat) {
		// The server may have dropped an ephemeral consumer while NATS was
		// away; the client would keep asking it for messages forever.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, cerr := s.js.Consumer(ctx, subjects.StreamEvents, s.Consumer())
		cancel()
		gone = errors.Is(cerr, njs.ErrConsumerNotFound)
	}
	if !gone {
		s.log.Debug("events consumer", "err", err)
		return
	}
	select {
	case s.fatal <- fmt.Errorf("%w: %w", ErrConsumerGone, err):
	default:
	}
}

// Run delivers events to handle one at a time, in stream order, until ctx
// ends (it then returns nil) or the consumer is gone (ErrConsumerGone). An
// event handle fails on is delivered again after RetryDelay; events of
// other apps than Filter.App and malformed ones are acked without handle.
// Run may be called once; call Close after it returns.
func (s *Subscriber) Run(ctx context.Context, handle Handler) error {
	s.mu.Lock()
	if s.ran || s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.ran = true
	s.mu.Unlock()

	// The subscription outlives ctx a little: it ends only once no message
	// is on its way to the output channel, which watermill closes
	// without waiting for its senders.
	subCtx, cancelSub := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSub()
	out, err := s.wm.Subscribe(subCtx, subjects.StreamEvents)
	if err != nil {
		return err
	}
	s.log.Debug("events subscribed", "consumer", s.Consumer(), "filters", s.filters, "durable", s.cfg.Durable)
	var runErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case runErr = <-s.fatal:
			break loop
		case m, ok := <-out:
			if !ok {
				runErr = ErrClosed
				break loop
			}
			if ctx.Err() != nil {
				// select picks at random among ready cases: a message
				// ready beside ctx's end is given back, not handled.
				m.Nack()
				break loop
			}
			s.process(ctx, m, handle)
		}
	}
	// Stop taking messages, give back those on their way (they are
	// delivered again to the next subscriber at once), then end the
	// subscription.
	s.guard.stop()
	for {
		select {
		case m, ok := <-out:
			if ok {
				m.Nack()
				continue
			}
		case <-s.guard.idle:
		}
		break
	}
	cancelSub()
	return runErr
}

// process hands one message to handle and acks or nacks it.
func (s *Subscriber) process(ctx context.Context, m *message.Message, handle Handler) {
	d, err := decode(m)
	if err != nil {
		s.log.Warn("skipping malformed event", "err", err)
		m.Ack()
		return
	}
	if s.cfg.Filter.App != "" && s.appOf(ctx, d) != s.cfg.Filter.App {
		m.Ack()
		return
	}
	hctx, cancel := context.WithTimeout(ctx, s.cfg.AckWait)
	err = handle(hctx, d)
	cancel()
	if err == nil {
		m.Ack()
		return
	}
	s.log.Warn("event handler failed; delivering it again", "session", d.SessionID(), "type", d.ShortType(), "seq", d.Sequence, "err", err)
	select {
	case <-ctx.Done():
	case <-time.After(s.cfg.RetryDelay):
	}
	m.Nack()
}

// Close ends the subscription if Run did not, drains and closes the
// connection, and waits until it is closed. It is safe to call twice.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.guard.stop()
	err := s.wm.Close() // drains s.nc
	if err != nil && !s.nc.IsConnected() {
		// NATS is away: there is nothing to drain, only to close.
		err = nil
		s.nc.Close()
	}
	select {
	case <-s.connClosed:
	case <-time.After(closeTimeout):
		s.nc.Close()
		<-s.connClosed
	}
	return err
}

// guard keeps watermill's handler from running once Run stops: watermill
// closes its output channel without waiting for a handler that is sending
// on it, so Run waits until none is in flight before ending the
// subscription.
type guard struct {
	mu       sync.Mutex
	stopping bool
	inflight int
	idle     chan struct{} // closed once stopping with none in flight
}

func newGuard() *guard { return &guard{idle: make(chan struct{})} }

func (g *guard) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopping {
		return false
	}
	g.inflight++
	return true
}

func (g *guard) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.inflight--
	if g.stopping && g.inflight == 0 {
		close(g.idle)
	}
}

func (g *guard) stop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopping {
		return
	}
	g.stopping = true
	if g.inflight == 0 {
		close(g.idle)
	}
}

// guardedConsumer runs watermill's message handler under the guard; a
// message that arrives once stopping is given back at once (Nak), so the
// next subscriber on a durable gets it without waiting for AckWait.
type guardedConsumer struct {
	njs.Consumer
	g *guard
}

func (c *guardedConsumer) Consume(handler njs.MessageHandler, opts ...njs.PullConsumeOpt) (njs.ConsumeContext, error) {
	return c.Consumer.Consume(func(m njs.Msg) {
		if !c.g.enter() {
			_ = m.Nak()
			return
		}
		defer c.g.leave()
		handler(m)
	}, opts...)
}
