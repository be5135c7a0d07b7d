package session

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
)

// retryable reports whether a failed try of a write may be made again as
// it is: the request may not have reached a stream leader (no responders,
// a connection reconnecting, JetStream answering it is unavailable while
// a cluster elects) or its answer was lost (a timeout). A wrong revision
// is not: Update re-reads the record and re-applies its change instead.
func retryable(err error) bool {
	if err == nil || isWrongRevision(err) {
		return false
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout),
		errors.Is(err, nats.ErrNoResponders), errors.Is(err, njs.ErrNoStreamResponse),
		errors.Is(err, nats.ErrConnectionReconnecting), errors.Is(err, nats.ErrDisconnected):
		return true
	}
	var apiErr *njs.APIError
	return errors.As(err, &apiErr) && apiErr.Code == http.StatusServiceUnavailable
}

// backoff is the wait before try attempt+1: exponential from RetryMin up
// to RetryMax, half of it random so that writers who failed together do
// not come back together.
func (c StoreConfig) backoff(attempt int) time.Duration {
	d := c.RetryMax
	if attempt < 30 {
		d = min(c.RetryMax, c.RetryMin<<attempt)
	}
	return d/2 + rand.N(d/2+1)
}

// retry runs op until it succeeds, fails with an error retryable does not
// take, or ctx ends; each try has AttemptTimeout at most. It answers op's
// last error.
func (st *Store) retry(ctx context.Context, id, what string, op func(context.Context) error) error {
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, st.cfg.AttemptTimeout)
		err := op(actx)
		cancel()
		if !retryable(err) || ctx.Err() != nil {
			return err
		}
		wait := st.cfg.backoff(attempt)
		st.log.Debug("record write retried", "session", id, "op", what, "attempt", attempt+1, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// writeContext is the deadline of one record write, retries included:
// the caller's, or WriteTimeout when that comes sooner.
func (st *Store) writeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, st.cfg.WriteTimeout)
}
