package session

import (
	"context"
	"errors"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
)

// An event is published from the record change, not on its write path:
// the write queues it here and returns, and a worker publishes it with
// retries. The message id <session>-<revision> keeps a retried publish
// (an earlier try that landed but whose answer was lost) from storing it
// twice, so the stream still holds every change exactly once, and an
// events-stream outage slows no record write.
//
// Why an outbox in the writer and not a publisher watching the bucket: a
// watch sees only the latest value of a key after a gap (a restart, a
// reconnect), so changes between would have no event, and it does not know
// the record before the change, which picks the event's type. The writer
// has both. What it does not have is durability across its own crash
// between the write and the publish: the event of that change is lost, as
// it was when the publish was inline.

// outboxEvent is one queued event.
type outboxEvent struct {
	subject, msgID, session, typ string
	data                         []byte
}

// outbox publishes events in the order they were queued for each session:
// a session's events go through one shard, drained by at most one worker.
type outbox struct {
	js  njs.JetStream
	cfg StoreConfig
	log *slog.Logger

	mu      sync.Mutex
	shards  [][]outboxEvent
	running []bool
	pending int
	dropped uint64
	closed  bool
	drained *sync.Cond // signalled when pending reaches 0
	stop    chan struct{}
	wg      sync.WaitGroup
}

func newOutbox(js njs.JetStream, cfg StoreConfig, log *slog.Logger) *outbox {
	o := &outbox{js: js, cfg: cfg, log: log, shards: make([][]outboxEvent, cfg.OutboxShards),
		running: make([]bool, cfg.OutboxShards), stop: make(chan struct{})}
	o.drained = sync.NewCond(&o.mu)
	return o
}

// add queues ev and starts its shard's worker if none runs. It never
// blocks: a full outbox drops ev and says so.
func (o *outbox) add(ev outboxEvent) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(ev.session))
	i := int(h.Sum32() % uint32(len(o.shards)))
	o.mu.Lock()
	if o.closed || o.pending >= o.cfg.OutboxSize {
		o.dropped++
		closed, dropped := o.closed, o.dropped
		o.mu.Unlock()
		// A long outage drops many: the first and every thousandth say so
		// (streamstack_session_events_dropped_total counts them all).
		if dropped == 1 || dropped%1000 == 0 {
			o.log.Error("event dropped: the outbox is full (the events stream has not taken events for a while) or the store closed",
				"session", ev.session, "type", ev.typ, "outbox_size", o.cfg.OutboxSize, "closed", closed, "dropped", dropped)
		}
		return
	}
	o.shards[i] = append(o.shards[i], ev)
	o.pending++
	if !o.running[i] {
		o.running[i] = true
		o.wg.Add(1)
		go o.drain(i)
	}
	o.mu.Unlock()
}

// drain publishes shard i's events in order until it is empty; the worker
// ends then, so an idle store holds no goroutine.
func (o *outbox) drain(i int) {
	defer o.wg.Done()
	for {
		o.mu.Lock()
		if n := len(o.shards[i]); n == 0 || o.closed {
			// Closed: what is left is given up, one line for all of it.
			o.dropped += uint64(n)
			o.pending -= n
			o.shards[i], o.running[i] = nil, false
			if o.pending == 0 {
				o.drained.Broadcast()
			}
			o.mu.Unlock()
			if n > 0 {
				o.log.Error("events dropped: the store closed before the events stream took them", "count", n)
			}
			return
		}
		ev := o.shards[i][0]
		o.mu.Unlock()
		published := o.publish(ev)
		o.mu.Lock()
		if !published {
			o.dropped++
		}
		o.shards[i][0] = outboxEvent{}
		o.shards[i] = o.shards[i][1:]
		o.pending--
		if o.pending == 0 {
			o.drained.Broadcast()
		}
		o.mu.Unlock()
	}
}

// publish tries ev until the stream takes it, the error is one no retry
// cures, or the store closes; it reports whether the stream took it.
func (o *outbox) publish(ev outboxEvent) bool {
	msg := nats.NewMsg(ev.subject)
	msg.Data = ev.data
	start := time.Now()
	for attempt := 0; ; attempt++ {
		ctx, cancel := context.WithTimeout(context.Background(), o.cfg.AttemptTimeout)
		_, err := o.js.PublishMsg(ctx, msg, njs.WithMsgID(ev.msgID))
		cancel()
		if err == nil {
			if attempt > 0 {
				o.log.Info("event published after retries", "session", ev.session, "type", ev.typ, "attempts", attempt+1, "delay", time.Since(start).Round(time.Millisecond))
			}
			return true
		}
		if permanent(err) {
			o.log.Error("event dropped", "session", ev.session, "type", ev.typ, "err", err)
			return false
		}
		if attempt == 0 {
			o.log.Warn("event publish failed, retrying", "session", ev.session, "type", ev.typ, "err", err)
		}
		t := time.NewTimer(o.cfg.backoff(attempt))
		select {
		case <-o.stop:
			t.Stop()
			o.log.Error("event dropped: the store closed before the events stream took it", "session", ev.session, "type", ev.typ, "err", err)
			return false
		case <-t.C:
		}
	}
}

// permanent reports a publish error that no retry cures: a closed
// connection, an event larger than the stream takes.
func permanent(err error) bool {
	return errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, njs.ErrStreamMessageExceedsMaximum) ||
		errors.Is(err, nats.ErrMaxPayload) || errors.Is(err, nats.ErrBadSubject)
}

// flush waits until every queued event is published (or given up), or
// ctx ends.
func (o *outbox) flush(ctx context.Context) error {
	stop := context.AfterFunc(ctx, func() {
		o.mu.Lock()
		o.drained.Broadcast()
		o.mu.Unlock()
	})
	defer stop()
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.pending > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		o.drained.Wait()
	}
	return nil
}

// close flushes until ctx ends, then gives up what is left and waits for
// the workers. Events queued after it are dropped.
func (o *outbox) close(ctx context.Context) error {
	err := o.flush(ctx)
	o.mu.Lock()
	if !o.closed {
		o.closed = true
		close(o.stop)
	}
	o.mu.Unlock()
	o.wg.Wait()
	return err
}

// OutboxStats are an outbox's counters.
type OutboxStats struct {
	// Pending events wait for the events stream.
	Pending int
	// Dropped events were never published: the outbox was full or closed.
	Dropped uint64
}

func (o *outbox) stats() OutboxStats {
	o.mu.Lock()
	defer o.mu.Unlock()
	return OutboxStats{Pending: o.pending, Dropped: o.dropped}
}
