// Command webhook forwards streamstack's session lifecycle events to an
// HTTP endpoint as CloudEvents (structured JSON, one POST per event), in
// order, with retries. It is an example to copy: everything it needs is the
// events package, and the ~100 lines here decide what to do with an event.
//
// It reads from a durable consumer, so a restart continues after the last
// event the endpoint accepted; events published while it is down wait in
// the stream (seven days by default, see --events-max-age).
//
//	PW=$(jq -r .client.password ~/.local/state/streamstack/nats-users.json)
//	go run ./examples/webhook --nats-url "nats://client:$PW@127.0.0.1:4222" \
//	    --url https://example.com/hooks/streamstack --type created,terminated,error
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/streamstack/streamstack/events"
)

type options struct {
	natsURL, url, durable string
	session, types, app   string
	authorization         string
	fromStart             bool
	attempts              int
	backoff, timeout      time.Duration
}

func main() {
	var o options
	flag.StringVar(&o.natsURL, "nats-url", "nats://127.0.0.1:4222", "NATS of the stack, with credentials (nats://client:PASSWORD@host:4222)")
	flag.StringVar(&o.url, "url", "", "where to POST each event (required)")
	flag.StringVar(&o.durable, "durable", "webhook", "durable consumer name: where a restart continues")
	flag.StringVar(&o.session, "session", "", "only this session's events")
	flag.StringVar(&o.types, "type", "", "only these event types, comma-separated (created, placed, active, client_connected, stats, terminated, error, ...)")
	flag.StringVar(&o.app, "app", "", "only events of sessions of this application")
	flag.StringVar(&o.authorization, "authorization", os.Getenv("WEBHOOK_AUTHORIZATION"), "Authorization header to send (or WEBHOOK_AUTHORIZATION)")
	flag.BoolVar(&o.fromStart, "from-start", false, "a new consumer starts at the oldest event kept rather than the next one")
	flag.IntVar(&o.attempts, "attempts", 5, "POSTs per event before it goes back to the stream to be tried again")
	flag.DurationVar(&o.backoff, "backoff", 500*time.Millisecond, "wait before the first retry; doubles each time")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Second, "timeout of one POST")
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o, log); err != nil {
		log.Error("webhook", "err", err)
		os.Exit(1)
	}
}

// run forwards events until ctx ends.
func run(ctx context.Context, o options, log *slog.Logger) error {
	if o.url == "" {
		return errors.New("--url is required")
	}
	if o.attempts < 1 {
		return errors.New("--attempts must be at least 1")
	}
	fw := &Forwarder{
		URL:      o.url,
		Client:   &http.Client{Timeout: o.timeout},
		Header:   http.Header{},
		Attempts: o.attempts,
		Backoff:  o.backoff,
		Log:      log,
	}
	if o.authorization != "" {
		fw.Header.Set("Authorization", o.authorization)
	}
	cfg := events.DefaultConfig()
	cfg.URL, cfg.Name, cfg.Log = o.natsURL, "streamstack-webhook", log
	cfg.Durable, cfg.FromStart = o.durable, o.fromStart
	cfg.Filter = events.Filter{SessionID: o.session, App: o.app}
	for _, t := range strings.Split(o.types, ",") {
		if t = strings.TrimSpace(t); t != "" {
			cfg.Filter.Types = append(cfg.Filter.Types, t)
		}
	}
	// The server redelivers an event not acked within AckWait: leave room
	// for every attempt and its backoff.
	cfg.AckWait = time.Duration(o.attempts)*(o.timeout+o.backoff) + o.backoff<<o.attempts + 10*time.Second
	sub, err := events.NewSubscriber(cfg)
	if err != nil {
		return err
	}
	log.Info("forwarding events", "to", o.url, "durable", o.durable)
	err = sub.Run(ctx, fw.Handle)
	if cerr := sub.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("events: %w", err)
	}
	return nil
}
