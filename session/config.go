package session

import (
	"errors"
	"fmt"
	"time"
)

// StoreConfig bounds how a Store retries its record writes and how many
// events it holds back while the events stream is unreachable.
type StoreConfig struct {
	// WriteTimeout is the deadline of one record write, retries included,
	// when the caller's context has none sooner. Longer than a JetStream
	// leader election (4-9 s on nats-server 2.15), so a write rides one out.
	WriteTimeout time.Duration
	// AttemptTimeout bounds one try of a record write, so that a request
	// lost with a dying node is tried again within the deadline instead of
	// waiting for all of it.
	AttemptTimeout time.Duration
	// RetryMin and RetryMax bound the jittered exponential wait between
	// tries of a record write and of an event's publish.
	RetryMin, RetryMax time.Duration
	// OutboxSize is how many events a Store holds while the events stream
	// does not take them; one more is dropped (logged), so an outage never
	// holds up a record write nor grows memory without bound.
	OutboxSize int
	// OutboxShards is how many events are published at once: a session's
	// events go through one shard, in order.
	OutboxShards int
}

// ErrStoreConfig: a StoreConfig field is out of range.
var ErrStoreConfig = errors.New("invalid store config")

// DefaultStoreConfig suits both one host and a replicated cluster.
func DefaultStoreConfig() StoreConfig {
	return StoreConfig{
		WriteTimeout:   15 * time.Second,
		AttemptTimeout: 3 * time.Second,
		RetryMin:       25 * time.Millisecond,
		RetryMax:       time.Second,
		OutboxSize:     10_000,
		OutboxShards:   8,
	}
}

// Validate reports every field out of range at once.
func (c StoreConfig) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("%w: "+format, append([]any{ErrStoreConfig}, args...)...))
	}
	if c.WriteTimeout <= 0 {
		bad("WriteTimeout must be positive, got %s", c.WriteTimeout)
	}
	if c.AttemptTimeout <= 0 || c.AttemptTimeout > c.WriteTimeout {
		bad("AttemptTimeout must be positive and at most WriteTimeout (%s), got %s", c.WriteTimeout, c.AttemptTimeout)
	}
	if c.RetryMin <= 0 || c.RetryMax < c.RetryMin {
		bad("RetryMin must be positive and RetryMax at least RetryMin, got %s and %s", c.RetryMin, c.RetryMax)
	}
	if c.OutboxSize < 1 {
		bad("OutboxSize must be at least 1, got %d", c.OutboxSize)
	}
	if c.OutboxShards < 1 || c.OutboxShards > 1024 {
		bad("OutboxShards must be between 1 and 1024, got %d", c.OutboxShards)
	}
	return errors.Join(errs...)
}
