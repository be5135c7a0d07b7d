//go:build cgo

package x264

import (
	"testing"

	"github.com/streamstack/streamstack/internal/encctl/encctltest"
)

func BenchmarkEncodeH264_720p(b *testing.B) {
	frames := encctltest.Frames(b, 1280, 720, 60)
	for _, preset := range Presets[:2] {
		b.Run("preset="+preset, func(b *testing.B) {
			cfg := DefaultEncoderConfig(1280, 720, 30)
			cfg.Preset = preset
			encctltest.BenchmarkEncode(b, newEncoder(b, cfg), frames)
		})
	}
}
