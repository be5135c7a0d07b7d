package streamer

import (
	"sync"
	"sync/atomic"

	"github.com/pion/interceptor/pkg/cc"
)

// estimator is what the video loop reads its target bitrate from.
type estimator interface {
	GetTargetBitrate() int
}

// groupEstimate is the bitrate policy of a session with several peers
// (docs/peers.md, "Congestion"): one encoder feeds them all, so one
// target serves everyone. It follows the controller's estimate, lowered
// to the lowest viewer's but never below floorBps on a viewer's account:
// the person working in the app gets what its link carries, and a viewer
// on a weak link costs the others at most the floor. Without a controller
// the lowest estimate applies. A session with one peer gets exactly that
// peer's estimate.
//
// The event loop sets the members; the video loop reads the target.
type groupEstimate struct {
	floorBps int

	mu         sync.Mutex
	controller cc.BandwidthEstimator
	viewers    []cc.BandwidthEstimator
	// lowBps and ctlBps are the lowest viewer's and the controller's
	// estimates the last read saw, for stats.
	lowBps, ctlBps atomic.Int64
}

// controllerKbps is the controller's estimate at the last read; 0 without
// a controller.
func (g *groupEstimate) controllerKbps() int { return int(g.ctlBps.Load() / 1000) }

// lowestViewerKbps is the lowest viewer's estimate at the last read; 0
// without viewers.
func (g *groupEstimate) lowestViewerKbps() int { return int(g.lowBps.Load() / 1000) }

func newGroupEstimate(floorKbps int) *groupEstimate {
	return &groupEstimate{floorBps: floorKbps * 1000}
}

// set replaces the members; nil estimators (a peer connection without
// congestion control) are left out.
func (g *groupEstimate) set(controller cc.BandwidthEstimator, viewers []cc.BandwidthEstimator) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.controller = controller
	g.viewers = g.viewers[:0]
	for _, v := range viewers {
		if v != nil {
			g.viewers = append(g.viewers, v)
		}
	}
}

// GetTargetBitrate implements estimator: 0 when no member has an
// estimate yet (the loop then keeps its rate).
func (g *groupEstimate) GetTargetBitrate() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	ctl := 0
	if g.controller != nil {
		ctl = g.controller.GetTargetBitrate()
	}
	low := 0
	for _, v := range g.viewers {
		if t := v.GetTargetBitrate(); t > 0 && (low == 0 || t < low) {
			low = t
		}
	}
	g.lowBps.Store(int64(low))
	g.ctlBps.Store(int64(ctl))
	return groupTarget(ctl, low, g.floorBps)
}

// groupTarget is the policy on numbers: ctl is the controller's estimate
// (0: none), low the lowest viewer's (0: none).
func groupTarget(ctl, low, floor int) int {
	switch {
	case ctl > 0 && low > 0:
		return min(ctl, max(low, floor))
	case ctl > 0:
		return ctl
	default:
		return low
	}
}
