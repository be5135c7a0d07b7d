package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/internal/kvkeys"
)

// Heartbeat is what an agent says about itself every interval.
type Heartbeat struct {
	ID     string `json:"id"`
	Region string `json:"region"`
	// Units of encoder capacity: one unit is one 720p30 stream.
	TotalUnits float64 `json:"total_units"`
	UsedUnits  float64 `json:"used_units"`
	// Sessions running and the cap on them.
	Sessions    int       `json:"sessions"`
	MaxSessions int       `json:"max_sessions"`
	Backends    []Backend `json:"backends"`
	Version     string    `json:"version"`
	StartedAt   time.Time `json:"started_at"`
	At          time.Time `json:"at"`

	// The app budget: the CPU in cores and the memory in MiB the agent's
	// X11 apps may have in total (the sum of their containers' limits),
	// and what of it is free. Zero totals: an agent that does not report
	// one (older than these fields).
	AppCPUTotal      float64 `json:"app_cpu_total,omitempty"`
	AppCPUFree       float64 `json:"app_cpu_free,omitempty"`
	AppMemoryTotalMB int     `json:"app_memory_total_mb,omitempty"`
	AppMemoryFreeMB  int     `json:"app_memory_free_mb,omitempty"`
	// AppIsolation is how the agent runs X11 apps: "container", "none"
	// (as processes, unsafe), or "unavailable" (it takes no X11 session:
	// containers cannot run on its host). Empty: an older agent.
	AppIsolation string `json:"app_isolation,omitempty"`
}

// Backend is one encoder backend of an agent (see package encoders),
// with its units counted in 720p30 streams of its codecs.
type Backend struct {
	Name     string   `json:"name"`
	Hardware bool     `json:"hardware"`
	Codecs   []string `json:"codecs"`
	// Pool is the capacity the backend shares with the agent's other
	// backends of the same pool ("cpu", or one device: "nvenc0",
	// "vaapi-renderD128"): a session on
	// one takes units from all of them.
	Pool       string  `json:"pool,omitempty"`
	TotalUnits float64 `json:"total_units"`
	UsedUnits  float64 `json:"used_units"`
	// FreeUnits is what the agent would still admit on this backend now:
	// zero when its session cap is reached, or while it is degraded.
	FreeUnits float64 `json:"free_units"`
	// Degraded: a session's encoder on this backend's pool failed or
	// stalled and moved to software; the agent admits nothing here until
	// a re-probe's test encode works again.
	Degraded bool `json:"degraded,omitempty"`
	// Failures counts those fallbacks since the agent started.
	Failures int `json:"failures,omitempty"`
}

// Encodes reports whether the backend encodes one of codecs; no codecs
// means any.
func (b Backend) Encodes(codecs []string) bool {
	if len(codecs) == 0 {
		return true
	}
	for _, c := range codecs {
		for _, have := range b.Codecs {
			if strings.EqualFold(c, have) {
				return true
			}
		}
	}
	return false
}

// FreeUnits is the capacity an agent can still admit. With per-backend
// figures it sums each pool's free units (in its backend of most total
// units, as TotalUnits counts it), so a degraded pool, or one that a
// fallback overcommitted, adds nothing rather than hiding the others.
func (h Heartbeat) FreeUnits() float64 {
	if h.MaxSessions > 0 && h.Sessions >= h.MaxSessions {
		return 0
	}
	if len(h.Backends) == 0 {
		return max(0, h.TotalUnits-h.UsedUnits)
	}
	best := map[string]Backend{}
	for _, b := range h.Backends {
		if cur, ok := best[b.Pool]; !ok || b.TotalUnits > cur.TotalUnits {
			best[b.Pool] = b
		}
	}
	var free float64
	for _, b := range best {
		free += max(0, b.FreeUnits)
	}
	return free
}

// FitsApp reports whether an app whose container may have cpu cores and
// memoryMB MiB fits what the agent's app budget has free. An agent that
// reports no budget is taken to fit: only its own admission can tell.
func (h Heartbeat) FitsApp(cpu float64, memoryMB int) bool {
	if h.AppCPUTotal == 0 && h.AppMemoryTotalMB == 0 {
		return true
	}
	return cpu <= h.AppCPUFree+1e-9 && memoryMB <= h.AppMemoryFreeMB
}

// Put writes a heartbeat.
func Put(ctx context.Context, kv njs.KeyValue, h Heartbeat) error {
	data, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("fleet: encode: %w", err)
	}
	if _, err := kv.Put(ctx, h.ID, data); err != nil {
		return fmt.Errorf("fleet: put %s: %w", h.ID, err)
	}
	return nil
}

// Remove deletes an agent's heartbeat when it stops cleanly.
func Remove(ctx context.Context, kv njs.KeyValue, id string) error {
	if err := kv.Delete(ctx, id); err != nil && !errors.Is(err, njs.ErrKeyNotFound) {
		return fmt.Errorf("fleet: remove %s: %w", id, err)
	}
	return nil
}

// List returns the live agents sorted by id. Keys with a dot, which no
// agent id has, are other users' of the bucket (the reconciler's lease).
//
// The keys come from package kvkeys, not kv.ListKeys, which missed a
// heartbeat being rewritten while it listed: a live fleet read as empty
// and the gateway answered "no capacity".
func List(ctx context.Context, js njs.JetStream, kv njs.KeyValue) ([]Heartbeat, error) {
	keys, err := kvkeys.List(ctx, js, kv, "*")
	if err != nil {
		return nil, fmt.Errorf("fleet: list: %w", err)
	}
	var out []Heartbeat
	for _, key := range keys {
		e, err := kv.Get(ctx, key)
		if errors.Is(err, njs.ErrKeyNotFound) || errors.Is(err, njs.ErrKeyDeleted) {
			continue // removed, or expired between the two reads
		}
		if err != nil {
			return nil, fmt.Errorf("fleet: get %s: %w", key, err)
		}
		var h Heartbeat
		if json.Unmarshal(e.Value(), &h) == nil {
			out = append(out, h)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// Regions returns the distinct regions live agents serve, sorted.
func Regions(ctx context.Context, js njs.JetStream, kv njs.KeyValue) ([]string, error) {
	agents, err := List(ctx, js, kv)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, a := range agents {
		if !seen[a.Region] {
			seen[a.Region] = true
			out = append(out, a.Region)
		}
	}
	sort.Strings(out)
	return out, nil
}
