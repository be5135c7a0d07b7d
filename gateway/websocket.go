package gateway

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
	"golang.org/x/time/rate"

	"github.com/streamstack/streamstack/auth"
	sjs "github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

// Close reasons the client sees.
const (
	reasonSessionEnded = "session ended"
	reasonShutdown     = "gateway shutting down"
)

// consumerInactiveThreshold lets the server drop a signaling consumer whose
// gateway vanished without deleting it.
const consumerInactiveThreshold = time.Minute

// consumerHeartbeat is how often JetStream tells a waiting pull of a
// signaling consumer that it is still there (an ordered consumer's
// default): two missed, and the bridge asks whether the consumer is gone.
const consumerHeartbeat = 5 * time.Second

var connIDEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

// newConnID returns a random 16-character connection id, safe as a subject
// token.
func newConnID() string {
	var b [10]byte
	_, _ = rand.Read(b[:])
	return connIDEncoding.EncodeToString(b[:])
}

// handleClientSocket bridges a client's websocket and its streamer through
// JetStream: client frames go to Signal(id, ToStreamer, conn), frames on
// Signal(id, ToClient, conn) go to the client, unchanged both ways.
func (s *Server) handleClientSocket(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	log := s.log.With("session", id)
	token := r.URL.Query().Get("token")
	if token == "" {
		writeError(w, log, fmt.Errorf("%w: missing session token (?token=)", auth.ErrUnauthorized))
		return
	}
	tokenID, err := s.tokens.VerifySession(token, id, time.Now())
	if err != nil {
		writeError(w, log, fmt.Errorf("invalid session token: %w", err))
		return
	}
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	sess, _, err := s.sessions.Get(ctx, id)
	if err != nil {
		writeError(w, log, err)
		return
	}
	if sess.Status.Ended() {
		writeError(w, log, fmt.Errorf("%w: %s is %s", session.ErrEnded, id, sess.Status))
		return
	}
	// The URL opens one websocket (sockettoken.go): refuse a used one
	// before allocating anything, and anything that is no handshake
	// before the token is spent on it.
	grant, err := checkSocketToken(sess, tokenID)
	if err != nil {
		log.Info("websocket refused", "err", err)
		writeError(w, log, err)
		return
	}
	if err := s.upgradeProblem(w, r); err != nil {
		writeError(w, log, err)
		return
	}
	if !s.addSocket() {
		writeError(w, log, fmt.Errorf("%w: gateway shutting down", ErrUnavailable))
		return
	}
	defer s.sockets.Done()

	// The id carries the grant: what the streamer lets the connection do
	// (session.ConnGrant, docs/peers.md).
	connID := session.ConnPrefix(grant) + newConnID()
	log = log.With("conn", connID)
	b, err := s.newBridge(ctx, id, connID, log)
	if err != nil {
		if errors.Is(err, ErrTooManySockets) {
			s.metrics.socketsRefused.Inc()
			log.Info("websocket refused", "err", err)
		}
		writeError(w, log, err)
		return
	}
	defer b.deleteConsumer()
	if err := s.useSocketToken(ctx, id, tokenID, connID); err != nil {
		// Another websocket got in first with the same URL (or a join
		// replaced it meanwhile): it keeps its connection.
		log.Info("websocket refused", "err", err)
		writeError(w, log, err)
		return
	}

	// The HTTP server's read and write deadlines (HTTPReadTimeout,
	// HTTPWriteTimeout) bound one request, not a websocket, which lives as
	// long as its client wants: its writes have WriteTimeout each, and
	// closing is what ends its reads. net/http documents that a hijacked
	// connection may keep them (Go 1.26 clears them itself); clear them
	// here rather than rely on that.
	rc := http.NewResponseController(w)
	if err := errors.Join(rc.SetReadDeadline(time.Time{}), rc.SetWriteDeadline(time.Time{})); err != nil {
		log.Debug("websocket: clear the HTTP deadlines", "err", err) // a handler mounted without Serve's deadlines
	}
	opts := s.acceptOptions(r)
	opts.OnPongReceived = func(context.Context, []byte) { b.live.touch() }
	c, err := websocket.Accept(w, r, opts)
	if err != nil {
		log.Info("websocket upgrade failed", "err", err) // Accept answered the client
		return
	}
	b.live.touch()
	c.SetReadLimit(s.cfg.MaxFrameBytes)
	if r.URL.Query().Get("resume") == "1" && grant == session.RoleOwner {
		// A guest resumes through its link instead, while it has uses.
		// Before the relay starts, so before any frame of the streamer's.
		if err := s.sendResume(c, id, tokenID); err != nil {
			log.Info("websocket: resume credential not sent", "err", err)
			_ = c.CloseNow()
			return
		}
	}
	s.metrics.websockets.Inc()
	defer s.metrics.websockets.Dec()
	b.run(c)
}

// bridge is one client websocket's relay.
type bridge struct {
	s        *Server
	id       string
	connID   string
	toStream string // where client frames go
	log      *slog.Logger
	cons     njs.Consumer
	limiter  *rate.Limiter
	live     *liveness
}

// newBridge creates the consumer of the frames for the client before the
// websocket is accepted, so nothing the streamer answers can be missed and
// a JetStream failure is still a plain 503. The consumer is the
// connection's slot among its session's WSMaxPerSession (sockslots.go):
// when every slot is taken, newBridge fails with ErrTooManySockets (429).
func (s *Server) newBridge(ctx context.Context, id, connID string, log *slog.Logger) (*bridge, error) {
	toStreamer, err := subjects.Signal(id, subjects.ToStreamer, connID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", session.ErrNotFound, err)
	}
	toClient, err := subjects.Signal(id, subjects.ToClient, connID)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", session.ErrNotFound, err)
	}
	// What an ordered consumer would be, less its resets: it is named
	// after its slot, which a reset would give up. The stream is in memory
	// and read by one pull at a time, in order, so there is nothing to
	// reorder; a consumer lost all the same closes the websocket (run).
	cons, err := s.createSignalConsumer(ctx, id, njs.ConsumerConfig{
		Description:       "signaling websocket " + connID,
		FilterSubject:     toClient,
		DeliverPolicy:     njs.DeliverAllPolicy,
		AckPolicy:         njs.AckNonePolicy,
		InactiveThreshold: consumerInactiveThreshold,
		Replicas:          1,
		MemoryStorage:     true,
	})
	if err != nil {
		return nil, err
	}
	return &bridge{
		s:        s,
		id:       id,
		connID:   connID,
		toStream: toStreamer,
		log:      log,
		cons:     cons,
		limiter:  rate.NewLimiter(rate.Limit(s.cfg.MaxFramesPerSecond), s.cfg.FrameBurst),
		live:     newLiveness(),
	}, nil
}

// run relays until the websocket closes: the client leaving (normal, the
// SDK closes once ICE connects), the session ending, the gateway shutting
// down, the client idle (no pong or frame within WSIdleTimeout), its
// consumer lost, or a broken connection. It returns when every goroutine it
// started has returned.
func (b *bridge) run(c *websocket.Conn) {
	b.log.Info("websocket open")
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var closeOnce sync.Once
	closeWith := func(code websocket.StatusCode, reason string) {
		closeOnce.Do(func() {
			b.log.Info("closing websocket", "reason", reason)
			_ = c.Close(code, reason)
		})
	}

	// The session ending closes the websocket. Without the watch the
	// bridge cannot tell, so it does not run.
	watch, err := b.s.sessions.Watch(ctx, b.id)
	if err != nil {
		b.log.Error("watch session", "err", err)
		cancel()
		closeWith(websocket.StatusTryAgainLater, "signaling unavailable")
		return
	}
	wg.Go(func() {
		for sess := range watch { // closed once ctx ends
			if sess.Status.Ended() {
				closeWith(websocket.StatusNormalClosure, reasonSessionEnded)
			}
		}
	})

	// Streamer → client, in order, bytes unchanged. A consumer that
	// JetStream lost (a restart, or dropped as inactive while this gateway
	// was cut off from NATS) delivers nothing more: the websocket closes,
	// and the client may open another. Its pulls are told so (409), or,
	// when none was waiting, stop getting heartbeats, after which
	// watchConsumer asks.
	lost := make(chan struct{})
	var lostOnce sync.Once
	markLost := func() { lostOnce.Do(func() { close(lost) }) }
	missed := make(chan struct{}, 1)
	cc, err := b.cons.Consume(func(m njs.Msg) {
		wctx, wcancel := context.WithTimeout(ctx, b.s.cfg.WriteTimeout)
		defer wcancel()
		if err := c.Write(wctx, websocket.MessageText, m.Data()); err != nil {
			b.log.Debug("write to client", "err", err)
			_ = c.CloseNow()
		}
	}, njs.ConsumeErrHandler(func(_ njs.ConsumeContext, err error) {
		b.log.Debug("signaling consumer", "err", err)
		switch {
		case errors.Is(err, njs.ErrConsumerDeleted), errors.Is(err, njs.ErrConsumerNotFound), errors.Is(err, njs.ErrConnectionClosed):
			markLost()
		case errors.Is(err, njs.ErrNoHeartbeat):
			select {
			case missed <- struct{}{}:
			default:
			}
		}
	}), njs.PullHeartbeat(consumerHeartbeat))
	if err != nil {
		b.log.Error("signaling consumer", "err", err)
		cancel()
		wg.Wait()
		closeWith(websocket.StatusTryAgainLater, "signaling unavailable")
		return
	}

	// The gateway shutting down closes it too, and so does losing the
	// consumer.
	wg.Go(func() {
		select {
		case <-ctx.Done():
		case <-b.s.closing:
			closeWith(websocket.StatusGoingAway, reasonShutdown)
		case <-lost:
			closeWith(websocket.StatusTryAgainLater, "signaling unavailable")
		}
	})

	wg.Go(func() { b.watchConsumer(ctx, missed, markLost) })

	// Ping the client; close it when it answers nothing for WSIdleTimeout.
	wg.Go(func() { b.pingLoop(ctx, c) })
	wg.Go(func() { b.idleWatch(ctx, closeWith) })

	err = b.readLoop(c, closeWith)
	switch status := websocket.CloseStatus(err); status {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway:
		b.log.Info("websocket closed", "status", int(status))
	case -1:
		b.log.Info("websocket closed", "err", err)
	default:
		b.log.Info("websocket closed", "status", int(status), "err", err)
	}

	cancel()
	cc.Stop()
	select {
	case <-cc.Closed():
	case <-time.After(b.s.cfg.WriteTimeout):
		b.log.Warn("signaling consumer did not stop in time")
	}
	wg.Wait()
	_ = c.CloseNow() // no-op when a close handshake already ended it
}

// watchConsumer asks JetStream for the consumer each time its heartbeats
// stop, and calls lost when it is gone.
func (b *bridge) watchConsumer(ctx context.Context, missed <-chan struct{}, lost func()) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-missed:
		}
		ictx, cancel := context.WithTimeout(ctx, b.s.cfg.PublishTimeout)
		_, err := b.cons.Info(ictx)
		cancel()
		if errors.Is(err, njs.ErrConsumerNotFound) {
			lost()
			return
		}
	}
}

// readLoop relays client frames until the connection ends. It reads with
// no deadline: closing the websocket is what ends it (idleWatch does for a
// client gone silent). Every frame, even one refused, shows the client is
// there; reading is also what answers pings and takes in pongs.
func (b *bridge) readLoop(c *websocket.Conn, closeWith func(websocket.StatusCode, string)) error {
	ctx := context.Background()
	for {
		typ, data, err := c.Read(ctx)
		if err != nil {
			return err
		}
		b.live.touch()
		read := time.Now()
		if !b.limiter.Allow() {
			b.reject(c, fmt.Sprintf("rate limit: more than %g frames per second, frame dropped", b.s.cfg.MaxFramesPerSecond))
			continue
		}
		if typ != websocket.MessageText {
			b.reject(c, "binary frames are not accepted: send JSON text frames")
			continue
		}
		if err := ValidateFrame(data); err != nil {
			b.reject(c, err.Error())
			continue
		}
		if err := b.publish(data); err != nil {
			b.refused(c, err, closeWith)
			continue
		}
		b.s.metrics.relay.Observe(time.Since(read).Seconds())
	}
}

// refused answers a frame the signaling stream did not take, by why: a
// connection that spent its budget (a flood) is closed, as sending again
// cannot help; a frame over the stream's size is refused alone; a full
// stream or server asks the client to come back later. Limits are not
// logged above debug: a flood would flood the log too.
func (b *bridge) refused(c *websocket.Conn, err error, closeWith func(websocket.StatusCode, string)) {
	lerr := sjs.LimitError(err)
	switch {
	case errors.Is(lerr, sjs.ErrSubjectFull):
		b.log.Debug("signaling budget spent", "err", lerr)
		closeWith(websocket.StatusPolicyViolation, "signaling budget of this connection spent: join again")
	case errors.Is(lerr, sjs.ErrMsgTooLarge):
		b.reject(c, fmt.Sprintf("frame larger than signaling stores (%d bytes), dropped", sjs.SignalMaxPayload))
	case errors.Is(lerr, sjs.ErrLimit):
		b.log.Debug("signaling full", "err", lerr)
		closeWith(websocket.StatusTryAgainLater, "signaling is full: try again later")
	default:
		b.log.Warn("relay to streamer", "err", err)
		b.reject(c, "could not relay the frame to the streamer, send it again")
	}
}

// publish stores one frame in the signaling stream and waits for the ack:
// the frame is in JetStream (and delivered to a listening streamer) before
// the next one is read, which keeps them in order.
func (b *bridge) publish(data []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), b.s.cfg.PublishTimeout)
	defer cancel()
	msg := &nats.Msg{Subject: b.toStream, Data: data}
	_, err := b.s.res.JS.PublishMsg(ctx, msg, njs.WithExpectStream(subjects.StreamSignal))
	return err
}

// reject answers an error frame for a frame that was not relayed.
func (b *bridge) reject(c *websocket.Conn, msg string) {
	b.log.Debug("frame rejected", "reason", msg)
	ctx, cancel := context.WithTimeout(context.Background(), b.s.cfg.WriteTimeout)
	defer cancel()
	if err := c.Write(ctx, websocket.MessageText, errorFrame(msg)); err != nil {
		b.log.Debug("write error frame", "err", err)
	}
}

// deleteConsumer removes the server side of the ordered consumer at once
// rather than after its inactivity threshold.
func (b *bridge) deleteConsumer() {
	info := b.cons.CachedInfo()
	if info == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.s.cfg.PublishTimeout)
	defer cancel()
	if err := b.s.res.JS.DeleteConsumer(ctx, subjects.StreamSignal, info.Name); err != nil && !errors.Is(err, njs.ErrConsumerNotFound) {
		b.log.Debug("delete signaling consumer", "err", err)
	}
}
