package encoders

import "strings"

// DefaultHardwareUnits is a hardware pool's capacity when neither the
// table nor the config knows its device: the consumer NVENC session limit
// below, a floor every current encoder sustains at 720p30.
const DefaultHardwareUnits = 8

// nvencUnits are NVENC capacities per GPU from NVIDIA's published figures,
// in 720p30 H.264 low-latency streams, matched as substrings of the
// driver's model name. Keep the source beside each row.
var nvencUnits = []struct {
	model  string
	units  float64
	source string
}{
	// NVIDIA T4 (one NVENC, Turing): 37 H.264 720p30 low-latency
	// streams, NVIDIA's T4 figures in the Video Codec SDK's NVENC
	// performance tables (preset P1, tuning "ultra low latency").
	{"T4", 37, "NVIDIA T4: 37 H.264 720p30 low-latency streams (NVIDIA's published NVENC figures)"},
	// Consumer GeForce cards: the hardware would carry more, but the
	// driver caps concurrent NVENC sessions per system (NVIDIA's "Video
	// Encode and Decode GPU Support Matrix": 3, then 5 from 2023, 8 since
	// the 551 drivers of 2024). The cap, not the silicon, is the capacity.
	{"GeForce", 8, "GeForce: the driver's concurrent NVENC session limit (NVIDIA Video Encode and Decode GPU Support Matrix)"},
	{"RTX", 8, "consumer RTX: the driver's concurrent NVENC session limit (NVIDIA Video Encode and Decode GPU Support Matrix)"},
}

// HardwareUnits returns a hardware pool's capacity in 720p30 streams for
// a device model, and where the figure comes from: per device, so each
// GPU of a host is a pool of this many (pool is a kind or a device's
// pool). VA-API devices have no
// published per-stream figures: they get DefaultHardwareUnits until the
// config sets theirs.
func HardwareUnits(pool, model string) (float64, string) {
	if kind, _ := ParsePool(pool); kind == PoolNVENC {
		for _, r := range nvencUnits {
			if strings.Contains(model, r.model) {
				return r.units, r.source
			}
		}
	}
	return DefaultHardwareUnits, "no published figure for this device: conservative default, set the pool's units in the config"
}
