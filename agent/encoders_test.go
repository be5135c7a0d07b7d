package agent_test

import (
	"testing"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/session"
)

// An agent left to probe calibrates its software encoders at start and
// admits within what it measured; the record names the pool.
func TestAgentCalibratesAndRecordsEncoder(t *testing.T) {
	f := startAgent(t, "exec sleep 600", func(c *agent.Config) { c.UnitsPerCore = 0 })
	if u := f.agent.TotalUnits(); u <= 0 {
		t.Fatalf("calibrated units %v", u)
	}
	var software, hardware int
	for _, s := range f.agent.Inventory() {
		switch {
		case !s.Hardware && s.Available && s.UnitsPerCore > 0:
			software++
		case s.Hardware && !s.Available && s.Reason != "":
			hardware++ // absent here, with the reason
		case s.Hardware && s.Available:
			hardware++
		}
	}
	if software != 2 || hardware != 3 {
		t.Fatalf("inventory %+v", f.agent.Inventory())
	}
	id := f.create(t)
	s := f.waitFor(t, id, func(s *session.Session) bool { return s.Agent != "" })
	if s.Encoder != encoders.PoolCPU {
		t.Fatalf("encoder %q", s.Encoder)
	}
}

func TestStreamerGetsVAAPIDevice(t *testing.T) {
	f := startAgent(t, `[ "$STREAMSTACK_VAAPI_DEVICE" = /dev/dri/renderD129 ] || exit 9`,
		func(c *agent.Config) { c.VAAPIDevice = "/dev/dri/renderD129" })
	id := f.create(t)
	s := f.waitFor(t, id, func(s *session.Session) bool { return s.Status.Ended() })
	if s.Status != session.StatusTerminated {
		t.Fatalf("%+v", s)
	}
}

func TestConfigRejectsBadEncoderSettings(t *testing.T) {
	for name, tweak := range map[string]func(*agent.Config){
		"headroom":      func(c *agent.Config) { c.Headroom = 1 },
		"hardware wait": func(c *agent.Config) { c.HardwareWait = -1 },
		"codec cost":    func(c *agent.Config) { c.CodecCost = map[string]float64{"H264": 0} },
		"pool units":    func(c *agent.Config) { c.PoolUnits = map[string]float64{"nvenc": -3} },
		"units":         func(c *agent.Config) { c.UnitsPerCore = -1 },
	} {
		c := agent.DefaultConfig()
		c.NATSURL = "nats://x"
		tweak(&c)
		if c.Validate() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
