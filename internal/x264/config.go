package x264

import (
	"fmt"
	"slices"

	"github.com/streamstack/streamstack/internal/h264"
	"github.com/streamstack/streamstack/internal/yuv"
)

// Bitrate bounds for DefaultEncoderConfig, the same as internal/vpx's:
// the streamer adapts either codec within one range.
const (
	minDefaultKbps = 300
	maxDefaultKbps = 8000
)

// minVBVKbit is the smallest VBV: 2.5 kB. A VBV of one frame bounds every
// frame, keyframes too, to the frame's share of the link, so no frame
// queues a burst ahead of the next (the low-latency rule). Below about
// 600 kbps at 30 fps one frame's share no longer holds a legible IDR: at
// 320x240 and 300 kbps (1.25 kB) the first IDR, with no rate history yet,
// falls into x264's VBV emergency mode near 15 dB. The floor costs at most
// a 67 ms burst at the 300 kbps minimum and changes nothing at 720p30's
// default 2.8 Mbps (92 kbit).
const minVBVKbit = 20

// vbvKbit sizes the VBV: one frame of the bitrate, at least minVBVKbit.
func vbvKbit(kbps, fps int) int {
	return max(kbps/fps, minVBVKbit)
}

// Presets are the x264 presets fast enough for real time at 720p30 on one
// core; slower ones are refused.
var Presets = []string{"ultrafast", "superfast", "veryfast"}

// EncoderConfig configures an H.264 encoder. Zero values of the optional
// fields select the documented defaults, so a literal with just the size
// and FPS is usable.
type EncoderConfig struct {
	Width, Height int // required, positive and even
	FPS           int // required; also the timebase (1/FPS)

	// BitrateKbps is the CBR target; the VBV holds about one frame of it
	// (see minVBVKbit).
	// Default: see DefaultEncoderConfig.
	BitrateKbps int
	// Threads is x264's i_threads. Default 1: one slice per frame and one
	// encoder per session, scaled by sessions. More threads split each
	// frame into as many slices (sliced threads, no added delay).
	Threads int
	// Preset is one of Presets. Default "ultrafast".
	Preset string
	// KeyframeInterval is the maximum distance between IDR frames in
	// frames. Default FPS*10: loss recovery relies on on-demand keyframes
	// (PLI), so periodic ones are only a safety net.
	KeyframeInterval int
	// LevelIDC is the level written in the SPS (31 for 3.1). Default
	// h264.LevelFor the size and rate, so it matches the profile-level-id
	// the streamer signals.
	LevelIDC int
}

// DefaultEncoderConfig returns a config for the given size and frame rate
// with the bitrate chosen as
//
//	kbps = clamp(0.1 * width * height * fps / 1000, 300, 8000)
//
// (1280x720@30 → 2764 kbps), the same rule as internal/vpx.
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
	if c.Preset == "" {
		c.Preset = "ultrafast"
	}
	if c.KeyframeInterval == 0 {
		c.KeyframeInterval = c.FPS * 10
	}
	if c.LevelIDC == 0 {
		// An error leaves 0, which validate reports.
		c.LevelIDC, _ = h264.LevelFor(c.Width, c.Height, c.FPS)
	}
	return c
}

func (c EncoderConfig) validate() error {
	if err := yuv.CheckDimensions(c.Width, c.Height); err != nil {
		return err
	}
	switch {
	case c.FPS <= 0 || c.FPS > 240:
		return fmt.Errorf("%w: FPS %d", ErrBadConfig, c.FPS)
	case c.BitrateKbps <= 0:
		return fmt.Errorf("%w: bitrate %d kbps", ErrBadConfig, c.BitrateKbps)
	case c.Threads < 1 || c.Threads > 16:
		return fmt.Errorf("%w: threads %d", ErrBadConfig, c.Threads)
	case !slices.Contains(Presets, c.Preset):
		return fmt.Errorf("%w: preset %q, want one of %v", ErrBadConfig, c.Preset, Presets)
	case c.KeyframeInterval < 1:
		return fmt.Errorf("%w: keyframe interval %d", ErrBadConfig, c.KeyframeInterval)
	}
	need, err := h264.LevelFor(c.Width, c.Height, c.FPS)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadConfig, err)
	}
	if c.LevelIDC < need || h264.MaxBitrateKbps(c.LevelIDC) == 0 {
		return fmt.Errorf("%w: level_idc %d for %dx%d at %d fps (needs at least %d)",
			ErrBadConfig, c.LevelIDC, c.Width, c.Height, c.FPS, need)
	}
	return nil
}
