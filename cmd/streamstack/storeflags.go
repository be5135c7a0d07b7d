package main

import (
	"context"
	"flag"
	"log/slog"

	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/session"
)

// addStoreFlags registers how a component's session store retries its
// record writes and holds back events (session.StoreConfig).
func addStoreFlags(fs *flag.FlagSet) *session.StoreConfig {
	c := session.DefaultStoreConfig()
	fs.DurationVar(&c.WriteTimeout, "record-write-timeout", c.WriteTimeout, "longest a session record write may take, its retries included, when the caller gives it no sooner deadline (an API call has 10s); longer than a JetStream leader election (4-9 s), so a write rides one out instead of leaving a record behind")
	fs.DurationVar(&c.AttemptTimeout, "record-attempt-timeout", c.AttemptTimeout, "longest one try of a session record write waits for NATS before it is tried again (a timeout, no responders and a reconnect are retried; a conflict re-reads the record); at most --record-write-timeout")
	fs.DurationVar(&c.RetryMax, "record-retry-max", c.RetryMax, "longest wait between two tries of a record write or of an event's publish (exponential from 25ms, half of it random)")
	fs.IntVar(&c.OutboxSize, "event-outbox-size", c.OutboxSize, "most session events a process holds while the events stream does not take them (they are published after the record write, with retries); one more is dropped and logged")
	return &c
}

// newStore is a component's session store of cfg.
func newStore(cfg *session.StoreConfig, res *jetstream.Resources, source string, log *slog.Logger) (*session.Store, error) {
	return session.NewStoreWithConfig(*cfg, res.JS, res.Sessions, source, log)
}

// closeStore publishes the events its store still holds, for as long as
// one record write may take, and logs what it had to drop.
func closeStore(st *session.Store, cfg *session.StoreConfig, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), cfg.WriteTimeout)
	defer cancel()
	if err := st.Close(ctx); err != nil {
		log.Warn("session events left unpublished at exit", "dropped", st.OutboxStats().Dropped, "err", err)
	}
}
