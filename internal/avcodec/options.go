package avcodec

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/streamstack/streamstack/internal/h264"
)

// option is one libavcodec option (a generic AVCodecContext one such as
// "bf", or the encoder's private one), set by name as ffmpeg's command
// line sets it.
type option struct{ key, value string }

// LevelName is level_idc as libavcodec's "level" options name it: 31 is
// "3.1", 40 is "4" (h264_nvenc and h264_vaapi both know "4", only
// h264_nvenc "4.0").
func LevelName(idc int) string {
	if idc%10 == 0 {
		return strconv.Itoa(idc / 10)
	}
	return fmt.Sprintf("%d.%d", idc/10, idc%10)
}

// isH264 reports whether the encoder writes H.264, so it gets the
// profile and level browsers decode.
func isH264(name string) bool { return strings.HasPrefix(name, "h264_") }

// withDefaults fills the keyframe interval and, for H.264, the level the
// streamer signals for the size and rate (h264.LevelFor), and checks a
// given level is enough for them.
func (cfg EncoderConfig) withDefaults() (EncoderConfig, error) {
	if cfg.KeyframeInterval <= 0 {
		cfg.KeyframeInterval = cfg.FPS * 10
	}
	if !isH264(cfg.Name) {
		return cfg, nil
	}
	need, err := h264.LevelFor(cfg.Width, cfg.Height, cfg.FPS)
	if err != nil {
		return cfg, fmt.Errorf("%w: %s: %w", ErrCodec, cfg.Name, err)
	}
	if cfg.LevelIDC == 0 {
		cfg.LevelIDC = need
	}
	if cfg.LevelIDC < need || h264.MaxBitrateKbps(cfg.LevelIDC) == 0 {
		return cfg, fmt.Errorf("%w: %s: level_idc %d for %dx%d at %d fps (needs at least %d)",
			ErrCodec, cfg.Name, cfg.LevelIDC, cfg.Width, cfg.Height, cfg.FPS, need)
	}
	return cfg, nil
}

// options are what the encoder is opened with besides size, rate and
// bitrate. H.264 must decode in every browser, whose WebRTC stacks take
// the Constrained Baseline profile at the signalled level (42e01f: 3.1)
// and whose hardware decoders refuse more than that: so the profile is
// Constrained Baseline (CAVLC, no B-frames), the level is stated rather
// than left to the encoder's guess (NVENC picks one from its own limits,
// often 5.1 or 6.2), and a forced keyframe is an IDR. SPS and PPS precede
// every IDR because AV_CODEC_FLAG_GLOBAL_HEADER stays off (see
// enc_shim.c): a client that joins late or lost the first keyframe needs
// them in band, as `-bsf dump_extra` would put them.
func (cfg EncoderConfig) options() ([]option, error) {
	var opts []option
	switch {
	case strings.HasPrefix(cfg.Name, "h264_nvenc"):
		// The Video Codec SDK's low-latency setup: fastest preset, the
		// ultra-low-latency tuning, CBR, no lookahead or output delay.
		opts = []option{
			{"preset", "p1"}, {"tune", "ull"}, {"rc", "cbr"}, {"zerolatency", "1"}, {"delay", "0"},
			// NVENC's baseline has neither FMO nor ASO nor slice groups:
			// it is Constrained Baseline, which the streamer signals.
			{"profile", "baseline"}, {"level", LevelName(cfg.LevelIDC)}, {"coder", "cavlc"},
			{"bf", "0"}, {"forced-idr", "1"}, {"aud", "0"},
		}
		if cfg.Device != "" {
			gpu, err := strconv.Atoi(cfg.Device)
			if err != nil || gpu < 0 {
				return nil, fmt.Errorf("%w: %s: device %q is not a GPU index", ErrCodec, cfg.Name, cfg.Device)
			}
			// The CUDA device index of the pool the session was placed on.
			opts = append(opts, option{"gpu", strconv.Itoa(gpu)})
		}
	case cfg.Name == "h264_vaapi":
		opts = []option{
			{"profile", "constrained_baseline"}, {"level", LevelName(cfg.LevelIDC)}, {"coder", "cavlc"},
			{"bf", "0"}, {"aud", "0"}, {"rc_mode", "CBR"}, {"async_depth", "1"},
		}
	case strings.HasSuffix(cfg.Name, "_vaapi"):
		opts = []option{{"bf", "0"}, {"rc_mode", "CBR"}, {"async_depth", "1"}}
	default:
		opts = []option{{"bf", "0"}}
	}
	return opts, nil
}

// joinOptions writes opts as av_dict_parse_string reads them: key=value
// pairs, one a line (no option or value here holds '=' or a newline).
func joinOptions(opts []option) string {
	var b strings.Builder
	for _, o := range opts {
		b.WriteString(o.key + "=" + o.value + "\n")
	}
	return b.String()
}
