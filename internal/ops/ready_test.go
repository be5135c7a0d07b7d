package ops

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// fakeClock is a clock the test moves by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// However often /readyz is asked, a part is probed once per TTL; an
// answer older than the TTL is measured again, and a failing part is named
// in the 503's JSON body.
func TestReadyzIsCachedAndNamesWhatIsMissing(t *testing.T) {
	var mu sync.Mutex
	calls := 0
	var fail error
	probe := Probe{Name: "stream REQUESTS", Check: func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		return fail
	}}
	c := NewChecker(time.Second, probe)
	clock := &fakeClock{t: time.Unix(1000, 0)}
	c.now = clock.now
	srv := httptest.NewServer(Handler(prometheus.NewRegistry(), c))
	defer srv.Close()
	readyz := func() (int, Readiness) {
		t.Helper()
		resp, err := http.Get(srv.URL + PathReadyz)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r Readiness
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, r
	}

	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if code, r := readyz(); code != http.StatusOK || !r.Ready {
				t.Errorf("readyz %d %+v", code, r)
			}
		})
	}
	wg.Wait()
	if calls != 1 {
		t.Fatalf("20 probes within the TTL checked %d times, want 1", calls)
	}

	mu.Lock()
	fail = errors.New("nats: timeout")
	mu.Unlock()
	if code, _ := readyz(); code != http.StatusOK {
		t.Fatalf("within the TTL the cached answer stands, got %d", code)
	}
	clock.add(time.Second)
	code, r := readyz()
	if code != http.StatusServiceUnavailable || r.Ready || len(r.Missing) != 1 || r.Missing[0] != "stream REQUESTS" || r.Errors[0] != "nats: timeout" {
		t.Fatalf("after the TTL with the stream failing: %d %+v", code, r)
	}
	if calls != 2 {
		t.Fatalf("checked %d times, want 2", calls)
	}
	if !errors.Is(r.Err(), ErrNotReady) {
		t.Fatalf("Err %v", r.Err())
	}

	// Liveness does not depend on the parts.
	resp, err := http.Get(srv.URL + PathHealthz)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
}

// With a TTL of 0 every probe checks.
func TestReadyzWithoutCache(t *testing.T) {
	calls := 0
	c := NewChecker(0, Probe{Name: "x", Check: func(context.Context) error { calls++; return nil }})
	for range 3 {
		if r := c.Check(context.Background()); !r.Ready {
			t.Fatal(r)
		}
	}
	if calls != 3 {
		t.Fatalf("checked %d times, want 3", calls)
	}
}
