package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/streamstack/streamstack/events"
	"github.com/streamstack/streamstack/jetstream"
)

type eventsFlags struct {
	natsURL, stateDir string
	session, types    string
	app, durable      string
	json, fromStart   bool
}

func newEventsFlags(fs *flag.FlagSet) *eventsFlags {
	f := &eventsFlags{}
	fs.StringVar(&f.natsURL, "nats-url", "", "NATS of the stack; empty: serve's embedded one on 127.0.0.1:4222, with the credentials in --state-dir")
	fs.StringVar(&f.stateDir, "state-dir", "", "serve's state dir, for the embedded NATS credentials; empty: serve's default")
	fs.StringVar(&f.session, "session", "", "only this session's events")
	fs.StringVar(&f.types, "type", "", "only these event types, comma-separated (created, placed, active, updated, client_connected, client_disconnected, encoder_fallback, stats, terminating, terminated, error)")
	fs.StringVar(&f.app, "app", "", "only events of sessions of this application")
	fs.BoolVar(&f.json, "json", false, "print each event as its CloudEvents JSON, one per line")
	fs.StringVar(&f.durable, "durable", "", "name of a durable consumer: a later run with the same name continues after the last event printed; empty: an ephemeral one")
	fs.BoolVar(&f.fromStart, "from-start", false, "start at the oldest event the stream keeps instead of the next one (an existing --durable keeps its position)")
	return f
}

// runEvents tails the lifecycle event stream until interrupted.
func runEvents(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("events", flag.ContinueOnError)
	f := newEventsFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if f.natsURL == "" {
		creds, err := jetstream.LoadCredentials(credentialsPath(stateDirOrDefault(f.stateDir)))
		if err != nil {
			return err
		}
		f.natsURL = "nats://" + url.UserPassword(creds.Internal.Name, creds.Internal.Password).String() + "@127.0.0.1:4222"
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := events.DefaultConfig()
	cfg.URL, cfg.Name, cfg.Log = f.natsURL, "streamstack-events-cli", log
	cfg.Durable, cfg.FromStart = f.durable, f.fromStart
	cfg.Filter = events.Filter{SessionID: f.session, Types: splitList(f.types), App: f.app}
	sub, err := events.NewSubscriber(cfg)
	if err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var writeErr error
	out := &eventPrinter{w: os.Stdout, json: f.json}
	handle := func(_ context.Context, d *events.Delivery) error {
		if err := out.print(d); err != nil {
			writeErr = err // stdout is gone: stop rather than retry
			cancel()
			return err
		}
		return nil
	}
	ran := make(chan struct{})
	go func() {
		select {
		case <-sub.Ready():
			fmt.Fprintf(os.Stderr, "following lifecycle events (consumer %s); interrupt to stop\n", sub.Consumer())
		case <-ran:
		}
	}()
	err = sub.Run(ctx, handle)
	close(ran)
	if err == nil {
		err = writeErr
	}
	if cerr := sub.Close(); err == nil {
		err = cerr
	}
	return err
}

// eventPrinter writes events as lines or JSON.
type eventPrinter struct {
	w    io.Writer
	json bool
}

func (p *eventPrinter) print(d *events.Delivery) error {
	if p.json {
		b, err := json.Marshal(d.Event)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(p.w, "%s\n", b)
		return err
	}
	typ := strings.TrimSuffix(strings.TrimPrefix(d.ShortType(), "session."), ".v1")
	status, detail := "-", ""
	if d.Record != nil {
		status = string(d.Record.Status)
		detail = d.Record.StatusMessage
		if d.Record.Reason != "" {
			detail = "reason: " + d.Record.Reason
		}
	} else if d.IsStats() {
		detail = statsLine(d.Data)
	}
	_, err := fmt.Fprintf(p.w, "%s  %-19s  %-20s  %-11s  %s\n",
		d.Time.UTC().Format("2006-01-02T15:04:05.000Z"), typ, d.SessionID(), status, detail)
	return err
}

// statsLine summarizes a streamer's report.
func statsLine(data json.RawMessage) string {
	var s struct {
		Codec           string  `json:"codec"`
		Width           int     `json:"width"`
		Height          int     `json:"height"`
		FPS             int     `json:"fps"`
		FramesEncoded   uint64  `json:"frames_encoded"`
		BitrateKbps     int     `json:"bitrate_kbps"`
		EncodeMicrosAvg float64 `json:"encode_us_avg"`
	}
	if json.Unmarshal(data, &s) != nil {
		return ""
	}
	return fmt.Sprintf("%s %dx%d@%d, %d frames, target %d kbit/s, encode %s",
		s.Codec, s.Width, s.Height, s.FPS, s.FramesEncoded, s.BitrateKbps,
		(time.Duration(s.EncodeMicrosAvg*1e3) * time.Nanosecond).Round(10*time.Microsecond))
}
