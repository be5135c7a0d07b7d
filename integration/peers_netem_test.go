package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
)

// throttledViewerKbps is the viewer's link in the test below: well under
// the floor, so its estimate must fall below it.
const throttledViewerKbps = 400

// One viewer on a throttled path (tc netem in a network namespace) does
// not pull the session's bitrate below --viewer-bitrate-floor-kbps
// (docs/peers.md, "Congestion"): its bandwidth estimate falls under the
// floor, the encoder stays at the floor or above, and the controller keeps
// decoding.
//
//	this namespace (10.N.0.1): NATS, gateway, streamer, the owner ── veth, netem rate 400kbit ── viewer ns (10.N.0.2): streamstack probe --share
func TestThrottledViewerKeepsTheFloor(t *testing.T) {
	checkLeaks(t)
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace and tc (CI runs as root)")
	}
	for _, tool := range []string{"ip", "tc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (iproute2)", tool)
		}
	}
	removeStaleNamespaces(t)
	id := natPrefix + strconv.Itoa(os.Getpid()%100000)
	ns, host := id+"v", id+"w"
	net := freeLabNet(t)
	if err := exec.Command("ip", "netns", "add", ns).Run(); err != nil {
		t.Skipf("ip netns is unavailable here: %v", err)
	}
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", ns).Run() })
	for _, cmd := range [][]string{
		{"ip", "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns},
		{"ip", "addr", "add", net + ".0.1/24", "dev", host},
		{"ip", "link", "set", host, "up"},
		{"ip", "-n", ns, "addr", "add", net + ".0.2/24", "dev", "eth0"},
		{"ip", "-n", ns, "link", "set", "eth0", "up"},
		{"ip", "-n", ns, "link", "set", "lo", "up"},
	} {
		run(t, cmd...)
	}
	throttle(t, host, throttledViewerKbps)

	st := startStack(t, stackOptions{host: net + ".0.1"})
	ctx := testCtx(t)
	hd := session.Screen{Width: 1280, Height: 720, FPS: 30}
	info, owner := st.open(t, ctx, client.CreateRequest{Screen: &hd, Joinable: true, AllowViewers: true}, client.Options{})
	if err := owner.WaitFrames(ctx, 10); err != nil {
		t.Fatal(err)
	}
	link, err := st.api.Share(ctx, info.ID, client.ShareRequest{Role: session.RoleViewer})
	if err != nil {
		t.Fatal(err)
	}
	pctx, stop := context.WithCancel(ctx)
	defer stop()
	probe := exec.CommandContext(pctx, "ip", "netns", "exec", ns, binary, "probe", "--url", st.baseURL,
		"--session-id", info.ID, "--duration", "40s", "--json")
	// The token goes in the environment: not in argv, which any user reads.
	probe.Env = append(os.Environ(), "STREAMSTACK_SHARE="+link.Token)
	// exec copies into out on its own goroutine.
	var out lockedBuffer
	probe.Stdout, probe.Stderr = &out, &out
	if err := probe.Start(); err != nil {
		t.Fatal(err)
	}
	probeDone := make(chan struct{})
	go func() { _ = probe.Wait(); close(probeDone) }()
	defer func() { stop(); <-probeDone }()

	floor := streamer.DefaultConfig().ViewerBitrateFloorKbps
	stats := func() (streamer.Stats, error) {
		got, err := st.api.Get(ctx, info.ID)
		if err != nil {
			return streamer.Stats{}, err
		}
		var s streamer.Stats
		if len(got.Stats) == 0 {
			return s, fmt.Errorf("no stats yet")
		}
		return s, json.Unmarshal(got.Stats, &s)
	}
	// The viewer joined and its link shows: its estimate under the floor.
	natstest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		s, err := stats()
		if err != nil {
			return err
		}
		if s.Peers != 2 || s.ViewerEstimateKbps == 0 || s.ViewerEstimateKbps >= floor {
			return fmt.Errorf("peers %d, lowest viewer estimate %d kbps (floor %d); probe: %s", s.Peers, s.ViewerEstimateKbps, floor, out.String())
		}
		return nil
	})
	// From then on the viewer never pulls the bitrate under the floor: it
	// may be lower only where the controller's own estimate is (the policy
	// never sends above the controller's link; a busy machine's delays can
	// lower it), and then only until the next adaptation catches up with a
	// controller estimate that recovered (BitratePollInterval, 1 s: a
	// violation must outlast three of them to count).
	seen := map[uint64]bool{}
	var below time.Time
	natstest.CheckFor(t, 30*time.Second, 100*time.Millisecond, func() error {
		s, err := stats()
		if err != nil {
			return err
		}
		if s.BitrateKbps < floor && s.ControllerEstimateKbps >= floor {
			if below.IsZero() {
				below = time.Now()
			} else if time.Since(below) > 3*time.Second {
				t.Fatalf("bitrate %d kbps under the floor %d for %s with the controller's estimate at %d kbps and a viewer at %d kbps",
					s.BitrateKbps, floor, time.Since(below).Round(time.Millisecond), s.ControllerEstimateKbps, s.ViewerEstimateKbps)
			}
		} else {
			below = time.Time{}
		}
		seen[s.FramesEncoded] = true
		if len(seen) < 30 {
			return fmt.Errorf("%d reports so far", len(seen))
		}
		return nil
	})
	n := owner.Stats().FramesDecoded
	if err := owner.WaitFrames(ctx, int(n)+30); err != nil {
		t.Fatalf("the controller's stream beside a throttled viewer: %v", err)
	}
}

// throttle limits what leaves this namespace on dev to kbps: netem's rate
// with 20 ms of delay, or where the kernel has no netem (sch_netem), an
// HTB class of that rate, whose queue delays as a slow link's does.
func throttle(t *testing.T, dev string, kbps int) {
	t.Helper()
	rate := strconv.Itoa(kbps) + "kbit"
	out, err := exec.Command("tc", "qdisc", "add", "dev", dev, "root", "netem", "rate", rate, "delay", "20ms", "limit", "100").CombinedOutput()
	if err == nil {
		return
	}
	t.Logf("tc netem: %v: %s; an HTB class of %s instead", err, bytes.TrimSpace(out), rate)
	for _, cmd := range [][]string{
		{"tc", "qdisc", "add", "dev", dev, "root", "handle", "1:", "htb", "default", "10"},
		{"tc", "class", "add", "dev", dev, "parent", "1:", "classid", "1:10", "htb", "rate", rate, "ceil", rate},
		{"tc", "qdisc", "add", "dev", dev, "parent", "1:10", "pfifo", "limit", "100"},
	} {
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			t.Skipf("neither netem nor HTB can shape here: %v: %s", err, out)
		}
	}
}

// lockedBuffer is a bytes.Buffer safe to read while a process writes it.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
