package events

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/subjects"
)

// maxCachedApps bounds the session → app cache; past it the cache starts
// over (a lookup is one KV get).
const maxCachedApps = 10000

// appCache remembers each session's app for the app filter: stats events
// do not carry the record, so their app comes from an earlier event of the
// session or, failing that, from the sessions bucket.
type appCache struct {
	mu     sync.Mutex
	apps   map[string]string
	kv     njs.KeyValue
	failed bool
}

func newAppCache() *appCache { return &appCache{apps: map[string]string{}} }

func (c *appCache) get(id string) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	app, ok := c.apps[id]
	return app, ok
}

func (c *appCache) put(id, app string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.apps) >= maxCachedApps {
		clear(c.apps)
	}
	c.apps[id] = app
}

// lookupTimeout bounds reading a record for the app filter: a NATS user
// without access to the sessions bucket gets no answer at all.
const lookupTimeout = 2 * time.Second

// appOf is the app of the event's session, or "" when it cannot be told.
func (s *Subscriber) appOf(ctx context.Context, d *Delivery) string {
	id := d.SessionID()
	if d.Record != nil {
		s.apps.put(id, d.Record.App)
		return d.Record.App
	}
	if app, ok := s.apps.get(id); ok {
		return app
	}
	kv, err := s.apps.bucket(ctx, s.js)
	if err != nil {
		if !errors.Is(err, errNoLookups) {
			s.apps.fail(s.log, err)
		}
		return ""
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	e, err := kv.Get(ctx, id)
	if errors.Is(err, njs.ErrKeyNotFound) {
		return ""
	}
	if err != nil {
		s.apps.fail(s.log, err)
		return ""
	}
	var rec struct {
		App string `json:"app"`
	}
	if json.Unmarshal(e.Value(), &rec) != nil {
		return ""
	}
	s.apps.put(id, rec.App)
	return rec.App
}

// bucket is the sessions bucket, looked up once; after a failure there
// are no more lookups.
func (c *appCache) bucket(ctx context.Context, js njs.JetStream) (njs.KeyValue, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.kv != nil || c.failed {
		return c.kv, c.err()
	}
	ctx, cancel := context.WithTimeout(ctx, lookupTimeout)
	defer cancel()
	kv, err := js.KeyValue(ctx, subjects.BucketSessions)
	if err != nil {
		return nil, err
	}
	c.kv = kv
	return kv, nil
}

func (c *appCache) err() error {
	if c.failed {
		return errNoLookups
	}
	return nil
}

var errNoLookups = errors.New("sessions bucket unreadable")

// fail turns lookups off after the bucket could not be read: a user
// without access would wait lookupTimeout for every stats event.
func (c *appCache) fail(log *slog.Logger, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.failed {
		log.Warn("app filter: cannot read the sessions bucket; stats events of sessions not seen before are skipped", "err", err)
	}
	c.failed = true
	c.kv = nil
}
