package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
)

// killRounds and killBudget bound TestServeKilledDuringCreates: 100 rounds,
// or fewer when they take longer than the budget (the test logs how many
// it ran).
const (
	killRounds      = 100
	killBudget      = 8 * time.Minute
	killAfterAcked  = 10 // creates answered 201 in a round before its kill
	killCreateConns = 4  // clients creating at once
)

// kill -9 of a real `streamstack serve` (its embedded NATS in the same
// process) while clients create sessions, with --sync always, round after
// round on the same state dir: after each restart every create that was
// answered 201, in any round, has its record. Sessions ask for a region no
// agent serves, so nothing streams, and the placement timeout ends them
// quickly (their records stay).
func TestServeKilledDuringCreates(t *testing.T) {
	if testing.Short() {
		t.Skip("100 kills of serve")
	}
	checkLeaks(t)
	ctx, cancel := context.WithTimeout(context.Background(), killBudget+2*time.Minute)
	defer cancel()
	dir := t.TempDir()
	token := "durability-test-token-0123456789"
	tokenFile := filepath.Join(dir, "admin-token")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"serve", "--state-dir", filepath.Join(dir, "state"), "--nats-listen", natstest.FreeAddr(t), "--sync", "always",
		"--http-addr", "127.0.0.1:0", "--turn-listen", "off", "--admin-token-file", tokenFile,
		"--cores", "1", "--units-per-core", "2", "--placement-timeout", "1s"}
	ready := `msg="streamstack ready" url=(\S+)`
	api := &client.Gateway{Token: token}
	var acked []string // every create answered 201, all rounds
	checked := 0       // acked[:checked] were seen after a restart
	verify := func(ids []string) {
		t.Helper()
		for _, id := range ids {
			if _, err := api.Get(ctx, id); err != nil {
				t.Fatalf("session %s was answered 201 before a kill -9, then: %v", id, err)
			}
		}
	}
	start := time.Now()
	rounds := 0
	for ; rounds < killRounds && time.Since(start) < killBudget; rounds++ {
		p := startProc(t, ready, agentEnv, args...)
		api.BaseURL = strings.TrimSuffix(p.wait(t, ctx)[1], "/")
		verify(acked[checked:])
		checked = len(acked)

		var (
			mu     sync.Mutex
			round  []string
			enough = make(chan struct{})
			once   sync.Once
			stop   = make(chan struct{})
			wg     sync.WaitGroup
		)
		for range killCreateConns {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					info, err := api.Create(ctx, client.CreateRequest{App: "test-pattern", Region: "no-agent-here"})
					if err != nil {
						continue // refused or cut by the kill: not acknowledged
					}
					mu.Lock()
					round = append(round, info.ID)
					if len(round) >= killAfterAcked {
						once.Do(func() { close(enough) })
					}
					mu.Unlock()
				}
			})
		}
		select {
		case <-enough:
		case <-ctx.Done():
			t.Fatal("no creates answered")
		}
		p.kill(t) // creates still in flight
		close(stop)
		wg.Wait()
		acked = append(acked, round...)
	}
	p := startProc(t, ready, agentEnv, args...)
	api.BaseURL = strings.TrimSuffix(p.wait(t, ctx)[1], "/")
	verify(acked)
	p.stop(t)
	t.Logf("%d rounds of kill -9 during creates in %s: all %d creates answered 201 kept", rounds, time.Since(start).Round(time.Second), len(acked))
	if rounds < killRounds {
		t.Logf("only %d of %d rounds fitted the %s budget", rounds, killRounds, killBudget)
	}
}
