package reconcile

import (
	"context"
	"errors"
	"fmt"

	njs "github.com/nats-io/nats.go/jetstream"
)

// LeaseKey is the reconciler's lease in the agents bucket. The dot keeps
// it apart from agent ids, which have none (fleet.List skips it).
const LeaseKey = "lease.reconciler"

// Lease is one contender for a key of a bucket with a TTL: the holder
// renews it with a compare-and-set on its revision, the others try to
// create it; it lapses a TTL after its holder's last renewal.
type Lease struct {
	kv     njs.KeyValue
	key    string
	holder string
	rev    uint64 // the revision this contender wrote; 0 while not holding
}

// NewLease returns a contender called holder for key in kv.
func NewLease(kv njs.KeyValue, key, holder string) *Lease {
	return &Lease{kv: kv, key: key, holder: holder}
}

// Held reports whether the last Renew kept or took the lease.
func (l *Lease) Held() bool { return l.rev != 0 }

// Renew keeps the lease when held, takes it when free, and reports
// whether this contender holds it now. An error other than losing the
// race (a NATS failure) also leaves it not held: a contender that cannot
// write cannot be sure it still holds anything.
func (l *Lease) Renew(ctx context.Context) (bool, error) {
	var err error
	if l.rev != 0 {
		l.rev, err = l.kv.Update(ctx, l.key, []byte(l.holder), l.rev)
	} else {
		l.rev, err = l.kv.Create(ctx, l.key, []byte(l.holder))
	}
	if err == nil {
		return true, nil
	}
	l.rev = 0
	if lostRace(err) {
		return false, nil
	}
	return false, fmt.Errorf("reconcile: lease %s: %w", l.key, err)
}

// Release gives the lease up at once, when held, so that another
// contender need not wait for the TTL.
func (l *Lease) Release(ctx context.Context) error {
	if l.rev == 0 {
		return nil
	}
	rev := l.rev
	l.rev = 0
	err := l.kv.Delete(ctx, l.key, njs.LastRevision(rev))
	if err != nil && !lostRace(err) {
		return fmt.Errorf("reconcile: release %s: %w", l.key, err)
	}
	return nil
}

// lostRace reports an error that means another contender wrote the key:
// it exists (create) or has moved on (update, delete).
func lostRace(err error) bool {
	var apiErr *njs.APIError
	if errors.As(err, &apiErr) && apiErr.ErrorCode == njs.JSErrCodeStreamWrongLastSequence {
		return true
	}
	return errors.Is(err, njs.ErrKeyExists)
}
