package jetstream

import (
	"fmt"
	"strings"
	"time"
)

// Sync is when the embedded server writes JetStream's files through to the
// disk (fsync): SyncAlways, before a write is acknowledged, or every so
// often (the duration). nats-server's own default is every 2 minutes, so a
// host crash (not a process crash: the kernel has the writes) could lose
// two minutes of acknowledged creates and token revocations; SyncAlways
// loses none, for a lower create rate (BENCHMARKS.md).
type Sync time.Duration

// SyncAlways syncs every write before acknowledging it. It is Sync's zero
// value: the safe one.
const SyncAlways Sync = 0

// ParseSync reads "always" or a duration such as "1s" or "2m".
func ParseSync(s string) (Sync, error) {
	if strings.EqualFold(strings.TrimSpace(s), "always") {
		return SyncAlways, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("jetstream: sync %q: want always or a positive interval such as 1s or 2m", s)
	}
	return Sync(d), nil
}

// String is what ParseSync reads back.
func (s Sync) String() string {
	if s == SyncAlways {
		return "always"
	}
	return time.Duration(s).String()
}

// Set makes *Sync a flag.Value.
func (s *Sync) Set(v string) error {
	parsed, err := ParseSync(v)
	if err != nil {
		return err
	}
	*s = parsed
	return nil
}
