package streamer

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/streamstack/streamstack/session"
)

// fallbackReporter records an encoder fallback in the session record (its
// encoder and encoder_fallback, which makes the change an
// EventEncoderFallback) off the video loop: the write is a KV
// compare-and-set plus an event, and the loop must not stop encoding for
// it. The agent watches the record and moves the session's reservation.
type fallbackReporter struct {
	store   *session.Store
	id      string
	timeout time.Duration
	log     *slog.Logger // carries the session id
	wg      sync.WaitGroup
}

func newFallbackReporter(store *session.Store, id string, timeout time.Duration, log *slog.Logger) *fallbackReporter {
	return &fallbackReporter{store: store, id: id, timeout: timeout, log: log}
}

// report queues the write of f; safe from any goroutine until wait.
func (r *fallbackReporter) report(f encoderFallback) {
	at := time.Now().UTC()
	r.wg.Go(func() { r.write(f, at) })
}

func (r *fallbackReporter) write(f encoderFallback, at time.Time) {
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	_, err := r.store.Update(ctx, r.id, func(s *session.Session) error {
		// Once per session: after a fallback every encoder is software.
		if s.EncoderFallback != nil || s.Status != session.StatusActive {
			return session.ErrNoChange
		}
		s.Encoder = f.to.Pool
		s.EncoderFallback = &session.EncoderFallback{
			FromBackend: f.from.Name, ToBackend: f.to.Name,
			FromPool: f.from.Pool, ToPool: f.to.Pool,
			Codec: f.from.Codec, Reason: f.reason, At: at,
		}
		return nil
	})
	if err != nil && !errors.Is(err, session.ErrEnded) {
		r.log.Error("record encoder fallback", "from", f.from.Name, "to", f.to.Name, "err", err)
	}
}

// wait returns once every queued write is done; call it after the video
// loop stopped.
func (r *fallbackReporter) wait() { r.wg.Wait() }
