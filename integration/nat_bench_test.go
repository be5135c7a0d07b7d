package integration

import (
	"fmt"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/streamstack/streamstack/internal/benchmark"
	"github.com/streamstack/streamstack/internal/localstack"
	"github.com/streamstack/streamstack/turn"
)

// BenchmarkNATRelayWait measures, through the real NAT of natLab, what
// the streamer's relay acceptance wait (--ice-relay-wait) buys and costs.
// The streamer and the embedded TURN server are on the public side (this
// namespace), the client (streamstack probe) behind the router:
//
//   - direct-possible: the client reaches the streamer directly, and a
//     relay pair is a waste. relay-share is the fraction of sessions that
//     nominated one anyway.
//   - relay-needed: the router passes the client's UDP only to the TURN
//     server's port, as a strict firewall does; the wait is pure cost.
//
// Each iteration is one session: API create, streamer process start, ICE,
// first decoded frame, as the probe reports it.
func BenchmarkNATRelayWait(b *testing.B) {
	lab := newNATLab(b)
	for _, scenario := range []string{"direct-possible", "relay-needed"} {
		for _, wait := range []time.Duration{200 * time.Millisecond, 0} {
			b.Run(fmt.Sprintf("%s/wait=%s", scenario, wait), func(b *testing.B) {
				emb := turn.DefaultConfig()
				emb.Listen = lab.public.String() + ":0"
				emb.Peers.Allow = []netip.Prefix{lab.lan}
				st := startTURNStack(b, turnStack{host: lab.public.String(), turn: localstack.TURNOptions{Embedded: &emb},
					streamerEnv: []string{"STREAMSTACK_ICE_RELAY_WAIT=" + wait.String()}})
				if scenario == "relay-needed" {
					lab.onlyTURN(b, st.TURN.Addr().Port())
				}
				var first benchmark.Durations
				relays := 0
				for b.Loop() {
					res, stderr, err := lab.probe(b, st, "--duration", "0s")
					if err != nil {
						b.Fatalf("probe: %v\n%s", err, stderr)
					}
					first = append(first, time.Duration(res.FirstFrameMS*float64(time.Millisecond)))
					if strings.Contains(res.ICEPath, "relay") {
						relays++
					}
				}
				b.ReportMetric(float64(first.Percentile(50))/1e6, "first-frame-p50-ms")
				b.ReportMetric(float64(first.Percentile(99))/1e6, "first-frame-p99-ms")
				b.ReportMetric(float64(relays)/float64(len(first)), "relay-share")
			})
		}
	}
}

// onlyTURN makes the router drop the client's UDP to anything but the
// TURN port, until cleanup.
func (l *natLab) onlyTURN(tb testing.TB, port uint16) {
	tb.Helper()
	rules := fmt.Sprintf(`table inet strict {
	chain forward {
		type filter hook forward priority filter - 10; policy accept;
		iifname "lc" udp dport != %d drop
	}
}`, port)
	cmd := exec.Command("ip", "netns", "exec", l.router, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("nft: %v\n%s", err, out)
	}
	tb.Cleanup(func() {
		_ = exec.Command("ip", "netns", "exec", l.router, "nft", "delete", "table", "inet", "strict").Run()
	})
}
