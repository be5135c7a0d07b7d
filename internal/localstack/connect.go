package localstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/jetstream"
)

// ErrStartTimeout: NATS did not become usable (reachable, JetStream
// answering, every stream and bucket set up) within
// ConnectOptions.StartTimeout; the error wraps the last try's.
var ErrStartTimeout = errors.New("localstack: NATS not usable within the start timeout")

// setupTryTimeout bounds one try at setting the streams up. While a
// cluster has no meta leader JetStream requests go unanswered, so a try
// ends on it, and the next one starts after a backoff.
const setupTryTimeout = 10 * time.Second

// Backoff between tries: from backoffMin, doubling up to backoffMax.
const (
	backoffMin = 250 * time.Millisecond
	backoffMax = 5 * time.Second
)

// ConnectOptions say how Dial reaches NATS.
type ConnectOptions struct {
	// URL of an external NATS (a comma-separated list for a cluster);
	// empty starts the embedded server configured by Server.
	URL    string
	Server jetstream.ServerConfig
	// Name of the connection, as NATS monitoring shows it.
	Name string
	// Limits: every stream and bucket is created or updated to them; nil
	// only binds to them, for short-lived processes and tools (which must
	// not reset the operator's retention settings).
	Limits *jetstream.Limits
	// Setup goes to jetstream.Setup (WithLog: where it warns of replicas
	// it lowers).
	Setup []jetstream.SetupOption
	// NATS are extra options of the connection to an external NATS: its
	// credentials (nats.UserCredentials, nats.UserInfo, nats.Token), kept
	// out of URL so that no log line or ps shows them.
	NATS []nats.Option
	// StartTimeout bounds the whole start against an external NATS: while
	// it is unreachable, or a cluster is electing its meta or streams'
	// leaders, Dial tries again with backoff, logging what it waits for,
	// until it. 0: one try. The embedded server is not retried: it is up
	// once started, or broken.
	StartTimeout time.Duration
	// Log is where the waiting is said; nil: slog.Default().
	Log *slog.Logger
}

// Connect is Dial with one try: it connects to natsURL (starting the
// embedded server when it is empty) and sets up or binds the streams.
func Connect(ctx context.Context, natsURL string, server jetstream.ServerConfig, name string, limits *jetstream.Limits, setup ...jetstream.SetupOption) (*jetstream.Server, *nats.Conn, *jetstream.Resources, error) {
	return Dial(ctx, ConnectOptions{URL: natsURL, Server: server, Name: name, Limits: limits, Setup: setup})
}

// Dial connects to NATS (starting the embedded server when o.URL is
// empty) and creates or updates every stream and bucket with o.Limits, or
// binds to them, trying again until o.StartTimeout while NATS is not
// there yet.
func Dial(ctx context.Context, o ConnectOptions) (*jetstream.Server, *nats.Conn, *jetstream.Resources, error) {
	if o.Limits != nil {
		if err := o.Limits.Validate(); err != nil {
			return nil, nil, nil, err
		}
	}
	if o.URL == "" {
		return dialEmbedded(ctx, o)
	}
	log := o.Log
	if log == nil {
		log = slog.Default()
	}
	start := time.Now()
	startCtx, cancel := context.WithTimeout(ctx, max(o.StartTimeout, setupTryTimeout))
	defer cancel()
	var nc *nats.Conn
	backoff := backoffMin
	for try := 1; ; try++ {
		res, phase, err := dialTry(startCtx, &nc, o)
		if err == nil {
			if try > 1 {
				log.Info("NATS usable", "tries", try, "waited", time.Since(start).Round(time.Millisecond))
			}
			return nil, nc, res, nil
		}
		if o.StartTimeout <= 0 || permanent(err) {
			return closeFail(nc, nil, err)
		}
		if ctx.Err() != nil {
			return closeFail(nc, nil, ctx.Err())
		}
		if startCtx.Err() != nil || time.Since(start)+backoff >= o.StartTimeout {
			return closeFail(nc, nil, fmt.Errorf("%w (%s, %d tries; raise --start-timeout): %s: %w", ErrStartTimeout, o.StartTimeout, try, phase, err))
		}
		log.Warn("waiting for NATS", "for", phase, "try", try, "retry_in", backoff, "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-startCtx.Done():
			t.Stop()
			if ctx.Err() != nil {
				return closeFail(nc, nil, ctx.Err())
			}
			return closeFail(nc, nil, fmt.Errorf("%w (%s, %d tries; raise --start-timeout): %s: %w", ErrStartTimeout, o.StartTimeout, try, phase, err))
		case <-t.C:
		}
		backoff = min(2*backoff, backoffMax)
	}
}

// dialTry connects *nc when it is nil (a connection made stays: it
// reconnects by itself) and sets the streams up, one try; phase says what
// it was waiting for when it failed.
func dialTry(ctx context.Context, nc **nats.Conn, o ConnectOptions) (*jetstream.Resources, string, error) {
	if *nc == nil {
		c, err := nats.Connect(o.URL, append([]nats.Option{nats.Name(o.Name), nats.MaxReconnects(-1)}, o.NATS...)...)
		if err != nil {
			return nil, "a NATS server to connect to", connectError(err)
		}
		*nc = c
	}
	res, err := setup(ctx, *nc, o)
	if err != nil {
		return nil, "JetStream (a cluster elects its leaders)", err
	}
	return res, "", nil
}

func setup(ctx context.Context, nc *nats.Conn, o ConnectOptions) (*jetstream.Resources, error) {
	js, err := njs.New(nc)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, setupTryTimeout)
	defer cancel()
	if o.Limits != nil {
		return jetstream.Setup(ctx, js, *o.Limits, o.Setup...)
	}
	return jetstream.Bind(ctx, js)
}

// dialEmbedded starts the embedded server and sets up its streams.
func dialEmbedded(ctx context.Context, o ConnectOptions) (*jetstream.Server, *nats.Conn, *jetstream.Resources, error) {
	if o.Limits != nil {
		// The streams' budgets must fit the server's, or Setup fails
		// with nats-server's vaguer "insufficient resources".
		if err := o.Server.CheckLimits(*o.Limits); err != nil {
			return nil, nil, nil, err
		}
	}
	srv, err := jetstream.StartServer(o.Server)
	if err != nil {
		return nil, nil, nil, err
	}
	nc, err := srv.Connect(o.Name)
	if err != nil {
		srv.Shutdown()
		return nil, nil, nil, connectError(err)
	}
	res, err := setup(ctx, nc, o)
	if err != nil {
		return closeFail(nc, srv, err)
	}
	return srv, nc, res, nil
}

func closeFail(nc *nats.Conn, srv *jetstream.Server, err error) (*jetstream.Server, *nats.Conn, *jetstream.Resources, error) {
	if nc != nil {
		nc.Close()
	}
	if srv != nil {
		srv.Shutdown()
	}
	return nil, nil, nil, err
}

// permanent reports whether trying again cannot help: NATS refused the
// credentials, a URL does not parse, or the limits ask what the server
// can never give.
func permanent(err error) bool {
	return errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) ||
		errors.Is(err, nats.ErrAuthRevoked) || errors.Is(err, nats.ErrAccountAuthExpired) ||
		errors.Is(err, nats.ErrPermissionViolation) || errors.Is(err, jetstream.ErrReplicas) ||
		errors.Is(err, errBadURL)
}

// errBadURL: a NATS URL does not parse.
var errBadURL = errors.New("a URL does not parse")

// connectError wraps a failed NATS connect without the URL a parse error
// quotes, password and all.
func connectError(err error) error {
	var bad *url.Error
	if errors.As(err, &bad) {
		err = fmt.Errorf("%w: %w", errBadURL, bad.Err)
	}
	return fmt.Errorf("connect to NATS: %w", err)
}
