package localstack

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/jetstream"
)

// waitLog is a slog handler that counts the records of one message and
// closes first at the first of them.
type waitLog struct {
	msg   string
	first chan struct{}
	mu    sync.Mutex
	n     int
}

func newWaitLog(msg string) *waitLog { return &waitLog{msg: msg, first: make(chan struct{})} }

func (w *waitLog) Enabled(context.Context, slog.Level) bool { return true }
func (w *waitLog) Handle(_ context.Context, r slog.Record) error {
	if r.Message != w.msg {
		return nil
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n++; w.n == 1 {
		close(w.first)
	}
	return nil
}
func (w *waitLog) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *waitLog) WithGroup(string) slog.Handler      { return w }

func (w *waitLog) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

// A NATS that comes up after the start began: Dial says it waits, tries
// again, and sets the streams up once it answers.
func TestDialWaitsForNATS(t *testing.T) {
	addr := natstest.FreeAddr(t)
	limits := jetstream.DefaultLimits()
	waiting := newWaitLog("waiting for NATS")
	type result struct {
		err   error
		close func()
	}
	done := make(chan result, 1)
	go func() {
		_, nc, res, err := Dial(context.Background(), ConnectOptions{URL: "nats://" + addr, Name: "dial-test", Limits: &limits,
			StartTimeout: time.Minute, Log: slog.New(waiting)})
		if err == nil && res.Sessions == nil {
			err = errors.New("no sessions bucket")
		}
		r := result{err: err}
		if nc != nil {
			r.close = nc.Close
		}
		done <- r
	}()
	select {
	case <-waiting.first:
	case r := <-done:
		t.Fatalf("Dial returned before NATS was there: %v", r.err)
	}
	cfg := jetstream.DefaultServerConfig(t.TempDir())
	cfg.Listen = addr
	srv, err := jetstream.StartServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	r := <-done
	if r.err != nil {
		t.Fatalf("Dial once NATS answered: %v", r.err)
	}
	r.close()
}

// With nothing to connect to, Dial gives up at the start timeout with
// ErrStartTimeout and the last error; a URL that cannot parse, or a start
// timeout of 0, is one try, said at once.
func TestDialGivesUp(t *testing.T) {
	addr := natstest.FreeAddr(t) // nobody listens there
	waiting := newWaitLog("waiting for NATS")
	_, _, _, err := Dial(context.Background(), ConnectOptions{URL: "nats://" + addr, Name: "dial-test",
		StartTimeout: time.Second, Log: slog.New(waiting)})
	if !errors.Is(err, ErrStartTimeout) || !strings.Contains(err.Error(), "--start-timeout") {
		t.Fatalf("Dial with nothing there: %v, want ErrStartTimeout", err)
	}
	if waiting.count() == 0 {
		t.Fatal("Dial never said it waited")
	}

	waiting = newWaitLog("waiting for NATS")
	_, _, _, err = Dial(context.Background(), ConnectOptions{URL: "nats://u:p%zz@127.0.0.1:4222", Name: "dial-test",
		StartTimeout: time.Minute, Log: slog.New(waiting)})
	if err == nil || errors.Is(err, ErrStartTimeout) || waiting.count() != 0 || strings.Contains(err.Error(), "p%zz") {
		t.Fatalf("a URL that does not parse: %v after %d waits, want its error at once without the URL", err, waiting.count())
	}

	_, _, _, err = Dial(context.Background(), ConnectOptions{URL: "nats://" + addr, Name: "dial-test", Log: slog.New(waiting)})
	if err == nil || errors.Is(err, ErrStartTimeout) || waiting.count() != 0 {
		t.Fatalf("one try: %v after %d waits", err, waiting.count())
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, _, err = Dial(ctx, ConnectOptions{URL: "nats://" + addr, Name: "dial-test", StartTimeout: time.Minute}); !errors.Is(err, context.Canceled) {
		t.Fatalf("a canceled start: %v", err)
	}
}
