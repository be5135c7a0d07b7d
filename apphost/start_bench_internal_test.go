package apphost

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/streamstack/streamstack/apps"
)

// BenchmarkContainerAppStart is an app's start in its container, with no
// network and with an outbound one, in pairs (the order swapped every
// pair, so that a shared host's drifting load weighs on both alike): from
// Start to the app's first line, which it writes once it runs (its gate
// opened). Xvfb and the sound server start in both; the outbound app's
// network (pasta and its filter) in addition.
func BenchmarkContainerAppStart(b *testing.B) {
	cfg := needContainers(b)
	for _, bin := range []string{"pasta", "nft"} {
		if _, err := exec.LookPath(bin); err != nil {
			b.Skipf("%s not installed", bin)
		}
	}
	app := apps.App{Name: "up", Kind: apps.KindX11, Command: []string{"/bin/sh", "-c",
		// The container's init: without a handler of its own, SIGTERM
		// would not end it and every Close would wait its stop timeout.
		"echo up >&2; trap 'exit 0' TERM; sleep 60 & wait"}}
	outbound := app
	outbound.Network = apps.NetworkOutbound
	// One of each first, untimed: the page cache then holds what both
	// start.
	for _, a := range []apps.App{app, outbound} {
		if _, err := appStart(b, cfg, a); err != nil {
			b.Fatal(err)
		}
	}
	var none, out, diff []float64
	pair := 0
	for b.Loop() {
		first, second := app, outbound
		if pair%2 == 1 {
			first, second = second, first
		}
		pair++
		got := map[string]time.Duration{}
		for _, a := range []apps.App{first, second} {
			d, err := appStart(b, cfg, a)
			if err != nil {
				b.Fatal(err)
			}
			got[a.Network] = d
		}
		n, o := msOf(got[app.Network]), msOf(got[apps.NetworkOutbound])
		none, out, diff = append(none, n), append(out, o), append(diff, o-n)
	}
	b.ReportMetric(median(none), "p50-none-ms")
	b.ReportMetric(median(out), "p50-outbound-ms")
	b.ReportMetric(median(diff), "p50-diff-ms")
}

// appStart starts app, waits for its first line and closes it.
func appStart(b *testing.B, cfg Config, app apps.App) (time.Duration, error) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	a, err := Start(ctx, cfg, app, 320, 240, x11TestLog())
	if err != nil {
		return 0, err
	}
	defer a.Close()
	t := time.NewTicker(time.Millisecond)
	defer t.Stop()
	for !strings.Contains(a.stderr.String(), "up") {
		select {
		case <-t.C:
		case <-a.Exited():
			b.Fatalf("the app exited: %s", a.stderr.String())
		case <-ctx.Done():
			b.Fatalf("the app did not start: %v", ctx.Err())
		}
	}
	return time.Since(start), nil
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[(len(s)-1)/2]/2 + s[len(s)/2]/2
}
