package gateway

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
)

// StatusIdleTimeout is the close status of a websocket whose client sent
// no pong and no frame within Config.WSIdleTimeout: 4408, in the range RFC
// 6455 leaves to applications, after HTTP's 408 Request Timeout (as
// graphql-ws's 4408 is). The reason says "idle timeout" and the timeout.
const StatusIdleTimeout websocket.StatusCode = 4408

// reasonIdle starts the close reason of an idle websocket.
const reasonIdle = "idle timeout"

// liveness is when a websocket's client was last heard from: a pong, or a
// frame of any kind. Times are offsets from start on the monotonic clock.
type liveness struct {
	start time.Time
	last  atomic.Int64 // nanoseconds since start
}

func newLiveness() *liveness { return &liveness{start: time.Now()} }

// touch notes that the client was heard from now.
func (l *liveness) touch() { l.last.Store(int64(time.Since(l.start))) }

// silence is how long the client has not been heard from.
func (l *liveness) silence() time.Duration {
	return time.Since(l.start) - time.Duration(l.last.Load())
}

// pingLoop pings the client every WSPingInterval until ctx ends. The
// client's pong reaches the bridge's liveness through the websocket's
// OnPongReceived; a client that does not answer is idleWatch's to close.
// The websocket's read loop must be running, as it is what reads pongs.
func (b *bridge) pingLoop(ctx context.Context, c *websocket.Conn) {
	every := b.s.cfg.WSPingInterval
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		// One ping at a time: Ping waits for its pong, at most until the
		// next ping is due.
		pctx, cancel := context.WithTimeout(ctx, every)
		err := c.Ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			b.log.Debug("websocket ping", "err", err)
		}
	}
}

// idleWatch closes the websocket with StatusIdleTimeout once its client
// has not been heard from for WSIdleTimeout, and returns; or returns when
// ctx ends.
func (b *bridge) idleWatch(ctx context.Context, closeWith func(websocket.StatusCode, string)) {
	idle := b.s.cfg.WSIdleTimeout
	timer := time.NewTimer(idle - b.live.silence())
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		silence := b.live.silence()
		if silence < idle {
			timer.Reset(idle - silence)
			continue
		}
		b.log.Info("websocket idle", "silence", silence.Round(time.Millisecond), "idle_timeout", idle)
		b.s.metrics.socketsIdle.Inc()
		closeWith(StatusIdleTimeout, fmt.Sprintf("%s: no pong or frame for %s", reasonIdle, idle))
		return
	}
}
