package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/streamstack/streamstack/session"
)

func TestBackoffWaitsDoubleWithJitter(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: 800 * time.Millisecond}
	for n, full := range map[int]time.Duration{2: 100 * time.Millisecond, 3: 200 * time.Millisecond,
		4: 400 * time.Millisecond, 5: 800 * time.Millisecond, 9: 800 * time.Millisecond} {
		for range 100 {
			if w := b.wait(n); w < full/2 || w > full {
				t.Fatalf("wait before attempt %d: %s, want between %s and %s", n, w, full/2, full)
			}
		}
	}
}

func TestBackoffValidate(t *testing.T) {
	if err := DefaultBackoff().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, b := range []Backoff{{}, {Initial: time.Second, Max: time.Millisecond}, {Initial: 1, Max: 1, Attempts: -1}} {
		if err := b.Validate(); !errors.Is(err, ErrBadBackoff) {
			t.Errorf("%+v: %v, want ErrBadBackoff", b, err)
		}
	}
}

func TestPermanentFailures(t *testing.T) {
	for err, want := range map[error]bool{
		&APIError{StatusCode: http.StatusConflict}:           true,
		&APIError{StatusCode: http.StatusNotFound}:           true,
		&APIError{StatusCode: http.StatusUnauthorized}:       true,
		&APIError{StatusCode: http.StatusServiceUnavailable}: false,
		&APIError{StatusCode: http.StatusTooManyRequests}:    false,
		fmt.Errorf("x: %w", session.ErrEnded):                true,
		fmt.Errorf("x: %w", ErrSignalingLost):                false,
		fmt.Errorf("x: %w", ErrGateway):                      false,
		fmt.Errorf("x: %w", ErrNoCommonCodec):                true,
	} {
		if got := permanent(err); got != want {
			t.Errorf("permanent(%v) = %v, want %v", err, got, want)
		}
	}
}

// Without gateways, or with a backoff that cannot work, Connect refuses
// before it dials anything.
func TestFailoverRefusesBadSetup(t *testing.T) {
	info := &SessionInfo{URL: "ws://127.0.0.1:1/x"}
	if _, _, err := (&Failover{}).Connect(context.Background(), info); !errors.Is(err, ErrNoGateway) {
		t.Fatalf("no gateways: %v", err)
	}
	f := &Failover{Gateways: []*Gateway{{BaseURL: "http://127.0.0.1:1"}}, Backoff: Backoff{Initial: -1}}
	if _, _, err := f.Connect(context.Background(), info); !errors.Is(err, ErrBadBackoff) {
		t.Fatalf("bad backoff: %v", err)
	}
}

// A signaler that closes before the peer connects fails Connect at once
// with ErrSignalingLost, not at the caller's deadline.
func TestConnectFailsWhenSignalingCloses(t *testing.T) {
	sig := closingSignaler{}
	p, err := NewPeer(sig, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := p.Connect(ctx); !errors.Is(err, ErrSignalingLost) {
		t.Fatalf("Connect: %v, want ErrSignalingLost", err)
	}
}

// closingSignaler takes frames and then closes, as the websocket of a
// gateway killed mid-signaling does.
type closingSignaler struct{}

func (closingSignaler) Send(context.Context, []byte) error { return nil }
func (closingSignaler) Recv(context.Context) ([]byte, error) {
	return nil, errors.New("websocket: connection reset by peer")
}
func (closingSignaler) Close() error { return nil }
