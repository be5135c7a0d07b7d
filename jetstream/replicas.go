package jetstream

import (
	"context"
	"log/slog"
)

// SetupOption is an optional knob of Setup.
type SetupOption func(*setupOptions)

type setupOptions struct {
	log *slog.Logger
}

// WithLog is where Setup says what it changed that an operator should
// know about: replicas lowered because Limits.Replicas asked for fewer.
// Without it Setup logs nothing.
func WithLog(log *slog.Logger) SetupOption {
	return func(o *setupOptions) { o.log = log }
}

func newSetupOptions(opts []SetupOption) setupOptions {
	o := setupOptions{log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// replicasFor is the replica count a stream that has have gets when want
// (Limits.Replicas) is asked for: its own when want is 0, so that no
// component's start undoes an operator's choice, and want otherwise.
func replicasFor(have, want int) int {
	if want <= 0 {
		return max(have, 1)
	}
	return want
}

// applyReplicas sets cfg's replicas for a stream that has have and warns
// when that lowers them: an explicit setting is obeyed, never silently.
func (o setupOptions) applyReplicas(ctx context.Context, name string, have, want int) int {
	got := replicasFor(have, want)
	if got < have {
		o.log.WarnContext(ctx, "lowering a stream's replicas as --replicas asks: it now survives fewer NATS node losses",
			"stream", name, "from", have, "to", got)
	}
	return got
}
