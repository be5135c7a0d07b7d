package streamer

import "testing"

func TestGroupTarget(t *testing.T) {
	const floor = 1_000_000
	for _, c := range []struct{ ctl, low, want int }{
		{0, 0, 0},                         // nobody has an estimate yet
		{3_000_000, 0, 3_000_000},         // the controller alone
		{0, 500_000, 500_000},             // viewers alone: the lowest, no floor
		{3_000_000, 2_000_000, 2_000_000}, // a viewer above the floor lowers it
		{3_000_000, 200_000, floor},       // a weak viewer costs at most the floor
		{600_000, 200_000, 600_000},       // never above the controller's own
		{3_000_000, 5_000_000, 3_000_000}, // a fast viewer does not raise it
	} {
		if got := groupTarget(c.ctl, c.low, floor); got != c.want {
			t.Errorf("groupTarget(%d, %d) = %d, want %d", c.ctl, c.low, got, c.want)
		}
	}
}
