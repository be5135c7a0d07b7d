package ops

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"
)

// ErrNotReady: something a component needs to do its work is not
// reachable; the error names it.
var ErrNotReady = errors.New("not ready")

// Readiness is the JSON body of /readyz.
type Readiness struct {
	Ready bool `json:"ready"`
	// Missing names each part that did not answer ("nats", "stream
	// REQUESTS", "bucket sessions", ...), in the order they were probed.
	Missing []string `json:"missing,omitempty"`
	// Errors are the probes' errors, one per entry of Missing.
	Errors []string `json:"errors,omitempty"`
	// CheckedAt is when the answer was measured: a probe within the
	// checker's TTL of it gets the same answer.
	CheckedAt time.Time `json:"checked_at"`
}

// Err is nil when ready, else an ErrNotReady naming what is missing.
func (r Readiness) Err() error {
	if r.Ready {
		return nil
	}
	return fmt.Errorf("%w: %v: %v", ErrNotReady, r.Missing, r.Errors)
}

// Probe checks that one part answers.
type Probe struct {
	// Name is what /readyz lists as missing when Check fails.
	Name  string
	Check func(context.Context) error
}

// Checker runs its probes at most once per TTL, however often load
// balancers ask: one round trip per part and second, not one per probe
// request, so that a fleet of probes cannot hammer NATS. Concurrent
// requests wait for the one check in flight.
type Checker struct {
	probes []Probe
	ttl    time.Duration
	now    func() time.Time

	mu   sync.Mutex // held through a check: callers share it
	last Readiness
	have bool
}

// NewChecker checks probes, an answer reused for ttl (0: never reused).
func NewChecker(ttl time.Duration, probes ...Probe) *Checker {
	return &Checker{probes: probes, ttl: ttl, now: time.Now}
}

// Check answers the last result when it is younger than the TTL, or
// runs every probe at once under ctx.
func (c *Checker) Check(ctx context.Context) Readiness {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.have && c.ttl > 0 && c.now().Sub(c.last.CheckedAt) < c.ttl {
		return c.last
	}
	errs := make([]error, len(c.probes))
	var wg sync.WaitGroup
	for i, p := range c.probes {
		wg.Go(func() { errs[i] = p.Check(ctx) })
	}
	wg.Wait()
	r := Readiness{Ready: true, CheckedAt: c.now()}
	for i, err := range errs {
		if err != nil {
			r.Ready = false
			r.Missing = append(r.Missing, c.probes[i].Name)
			r.Errors = append(r.Errors, err.Error())
		}
	}
	// A check cut short by its caller (a probe that hung up) says
	// nothing about NATS: the next caller measures again.
	c.last, c.have = r, ctx.Err() == nil
	return r
}

// Connected probes that nc is connected.
func Connected(nc *nats.Conn) Probe {
	return Probe{Name: "nats", Check: func(context.Context) error {
		if st := nc.Status(); st != nats.CONNECTED {
			return fmt.Errorf("NATS is %s", st)
		}
		return nil
	}}
}

// Stream probes that stream answers its info: it exists and, on a
// cluster, has a leader.
func Stream(js njs.JetStream, stream string) Probe {
	return Probe{Name: "stream " + stream, Check: func(ctx context.Context) error {
		_, err := js.Stream(ctx, stream)
		return err
	}}
}

// Bucket probes that KV bucket answers, as Stream does for its stream.
func Bucket(js njs.JetStream, bucket string) Probe {
	return Probe{Name: "bucket " + bucket, Check: func(ctx context.Context) error {
		_, err := js.Stream(ctx, "KV_"+bucket)
		return err
	}}
}

// Consumer probes that consumer of stream answers its info.
func Consumer(js njs.JetStream, stream, consumer string) Probe {
	return Probe{Name: "consumer " + stream + "/" + consumer, Check: func(ctx context.Context) error {
		_, err := js.Consumer(ctx, stream, consumer)
		return err
	}}
}
