package vpx

import (
	"fmt"

	"github.com/streamstack/streamstack/internal/yuv"
)

// Bitrate bounds for DefaultEncoderConfig. Below ~300 kbps VP8 turns
// screen text to mush; above ~8 Mbps a single real-time stream mostly
// burns bandwidth without visible gain.
const (
	minDefaultKbps = 300
	maxDefaultKbps = 8000
)

// EncoderConfig configures a VP8 encoder. Zero values of the optional
// fields select the documented defaults, so a literal with just the size
// and FPS is usable.
type EncoderConfig struct {
	Width, Height int // required, positive and even
	FPS           int // required; also the timebase (1/FPS)

	// BitrateKbps is the CBR target. Default: see DefaultEncoderConfig.
	BitrateKbps int
	// Threads is libvpx's g_threads. Default 1: the streamer runs one
	// encoder per session and scales by sessions, not threads.
	Threads int
	// CPUUsed is VP8E_SET_CPUUSED with libvpx's real-time semantics (the
	// same as ffmpeg's -cpu-used). Positive values are a CPU budget, not a
	// speed: libvpx measures its own encode time and picks the slowest
	// (best) speed that fits in (16-CPUUsed)/16 of the frame interval, so
	// throughput depends on FPS and machine load and output is not
	// bit-reproducible. Negative values fix the speed at -CPUUsed (what
	// libwebrtc does), giving predictable cost per frame. Default -8: a server plans capacity
	// per session, which needs a cost that does not drift with load. Zero
	// means "default", so libvpx's own 0 is not selectable.
	CPUUsed int
	// KeyframeInterval is the maximum distance between keyframes in
	// frames (kf_max_dist). Default FPS*10: loss recovery relies on
	// on-demand keyframes (PLI), so periodic ones are only a safety net.
	KeyframeInterval int
}

// DefaultEncoderConfig returns a config for the given size and frame rate
// with the bitrate chosen as
//
//	kbps = clamp(0.1 * width * height * fps / 1000, 300, 8000)
//
// i.e. about 0.1 bits per pixel per frame (1280x720@30 → 2765 kbps,
// 640x360@30 → 691 kbps), enough for sharp synthetic/desktop content.
func DefaultEncoderConfig(width, height, fps int) EncoderConfig {
	cfg := EncoderConfig{Width: width, Height: height, FPS: fps}
	return cfg.withDefaults()
}

func defaultBitrateKbps(width, height, fps int) int {
	kbps := width * height * fps / 10 / 1000
	return min(max(kbps, minDefaultKbps), maxDefaultKbps)
}

func (c EncoderConfig) withDefaults() EncoderConfig {
	if c.BitrateKbps == 0 {
		c.BitrateKbps = defaultBitrateKbps(c.Width, c.Height, c.FPS)
	}
	if c.Threads == 0 {
		c.Threads = 1
	}
	if c.CPUUsed == 0 {
		c.CPUUsed = -8
	}
	if c.KeyframeInterval == 0 {
		c.KeyframeInterval = c.FPS * 10
	}
	return c
}

func (c EncoderConfig) validate() error {
	if err := yuv.CheckDimensions(c.Width, c.Height); err != nil {
		return err
	}
	switch {
	case c.FPS <= 0:
		return fmt.Errorf("%w: FPS %d", ErrBadConfig, c.FPS)
	case c.BitrateKbps <= 0:
		return fmt.Errorf("%w: bitrate %d kbps", ErrBadConfig, c.BitrateKbps)
	case c.Threads < 1 || c.Threads > 64:
		return fmt.Errorf("%w: threads %d", ErrBadConfig, c.Threads)
	case c.CPUUsed < -16 || c.CPUUsed > 16:
		// libvpx's VP8 range; it would reject anything else at control time.
		return fmt.Errorf("%w: cpu-used %d", ErrBadConfig, c.CPUUsed)
	case c.KeyframeInterval < 0:
		return fmt.Errorf("%w: keyframe interval %d", ErrBadConfig, c.KeyframeInterval)
	}
	return nil
}
