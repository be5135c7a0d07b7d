package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/streamstack/streamstack/events"
)

// ContentType is the CloudEvents structured mode media type: the body is
// the whole event, attributes and data, as JSON.
const ContentType = "application/cloudevents+json; charset=utf-8"

// Forwarder posts each event to URL. A 2xx answer is delivered; a 4xx
// other than 408 and 429 will never be, so it is logged and skipped; any
// other failure is retried with a doubling Backoff, Attempts times in all,
// and then handed back to the stream, which delivers the event again (and
// nothing after it before it): events reach the URL in order, at least once.
type Forwarder struct {
	URL      string
	Client   *http.Client
	Header   http.Header // added to every request (an Authorization, say)
	Attempts int
	Backoff  time.Duration
	Log      *slog.Logger
}

// errPermanent: the receiver refused the event for good.
var errPermanent = errors.New("refused")

// Handle is an events.Handler.
func (f *Forwarder) Handle(ctx context.Context, d *events.Delivery) error {
	body, err := json.Marshal(d.Event)
	if err != nil {
		return err
	}
	wait := f.Backoff
	for attempt := 1; ; attempt++ {
		err = f.post(ctx, d.ID, body)
		if err == nil {
			f.Log.Debug("delivered", "session", d.SessionID(), "type", d.ShortType(), "seq", d.Sequence, "attempt", attempt)
			return nil
		}
		if errors.Is(err, errPermanent) {
			f.Log.Error("event refused; skipping it", "session", d.SessionID(), "type", d.ShortType(), "seq", d.Sequence, "err", err)
			return nil
		}
		if attempt >= f.Attempts {
			return fmt.Errorf("after %d attempts: %w", attempt, err)
		}
		f.Log.Warn("delivery failed; retrying", "session", d.SessionID(), "type", d.ShortType(), "attempt", attempt, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
}

func (f *Forwarder) post(ctx context.Context, id string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %w", errPermanent, err)
	}
	for k, vs := range f.Header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Content-Type", ContentType)
	// Receivers that deduplicate can key on the event id.
	req.Header.Set("Idempotency-Key", id)
	resp, err := f.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode >= 400 && resp.StatusCode < 500 &&
		resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests:
		return fmt.Errorf("%w: %s", errPermanent, resp.Status)
	default:
		return fmt.Errorf("%s", resp.Status)
	}
}
