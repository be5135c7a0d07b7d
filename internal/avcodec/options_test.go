package avcodec

import (
	"errors"
	"strconv"
	"testing"
)

// The level each picture needs, in the names libavcodec's level options
// take: from macroblocks per frame and per second (H.264 table A-1).
func TestEncoderLevel(t *testing.T) {
	for _, tc := range []struct {
		w, h, fps int
		want      string
	}{
		{320, 240, 30, "3.1"},   // below 3.1: the level every browser signals
		{1280, 720, 30, "3.1"},  // 3600 MBs × 30 = 108000 MB/s, 3.1's limit
		{1280, 720, 60, "3.2"},  // 216000 MB/s
		{1920, 1080, 30, "4"},   // 8160 MBs (1088 lines) × 30 = 244800 MB/s
		{1920, 1080, 60, "4.2"}, // 489600 MB/s
		{2560, 1440, 30, "5"},   // 14400 MBs: beyond 4.2's frame size
		{3840, 2160, 30, "5.1"},
		{3840, 2160, 60, "5.2"},
	} {
		cfg, err := EncoderConfig{Name: "h264_nvenc", Width: tc.w, Height: tc.h, FPS: tc.fps, BitrateKbps: 1000}.withDefaults()
		if err != nil {
			t.Errorf("%dx%d@%d: %v", tc.w, tc.h, tc.fps, err)
			continue
		}
		if got := LevelName(cfg.LevelIDC); got != tc.want {
			t.Errorf("%dx%d@%d: level %s, want %s", tc.w, tc.h, tc.fps, got, tc.want)
		}
	}
	for _, cfg := range []EncoderConfig{
		{Name: "h264_vaapi", Width: 7680, Height: 4320, FPS: 60},               // beyond 5.2
		{Name: "h264_nvenc", Width: 1920, Height: 1080, FPS: 30, LevelIDC: 31}, // too low
		{Name: "h264_nvenc", Width: 1280, Height: 720, FPS: 30, LevelIDC: 33},  // no such level
	} {
		if _, err := cfg.withDefaults(); !errors.Is(err, ErrCodec) {
			t.Errorf("%+v: %v, want ErrCodec", cfg, err)
		}
	}
	// VP8 has no levels.
	if cfg, err := (EncoderConfig{Name: "vp8_vaapi", Width: 7680, Height: 4320, FPS: 60}).withDefaults(); err != nil || cfg.LevelIDC != 0 {
		t.Errorf("vp8_vaapi: level %d, %v", cfg.LevelIDC, err)
	}
}

// What makes hardware H.264 decodable in browsers is in the options: the
// profile, the level, no B-frames, IDR on demand; NVENC on the pool's GPU.
func TestEncoderOptions(t *testing.T) {
	get := func(t *testing.T, cfg EncoderConfig) map[string]string {
		t.Helper()
		cfg, err := cfg.withDefaults()
		if err != nil {
			t.Fatal(err)
		}
		opts, err := cfg.options()
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		for _, o := range opts {
			m[o.key] = o.value
		}
		return m
	}
	want := func(t *testing.T, m map[string]string, kv ...string) {
		t.Helper()
		for i := 0; i < len(kv); i += 2 {
			if m[kv[i]] != kv[i+1] {
				t.Errorf("%s=%q, want %q (all: %v)", kv[i], m[kv[i]], kv[i+1], m)
			}
		}
	}
	nv := get(t, EncoderConfig{Name: "h264_nvenc", Device: "1", Width: 1920, Height: 1080, FPS: 30})
	want(t, nv, "profile", "baseline", "level", "4", "bf", "0", "coder", "cavlc", "forced-idr", "1", "gpu", "1")
	if _, ok := get(t, EncoderConfig{Name: "h264_nvenc", Width: 1280, Height: 720, FPS: 30})["gpu"]; ok {
		t.Error("gpu set without a device")
	}
	va := get(t, EncoderConfig{Name: "h264_vaapi", Device: "/dev/dri/renderD129", Width: 1280, Height: 720, FPS: 30})
	want(t, va, "profile", "constrained_baseline", "level", "3.1", "bf", "0", "coder", "cavlc", "rc_mode", "CBR")
	if _, err := (EncoderConfig{Name: "h264_nvenc", Device: "/dev/dri/renderD128", Width: 64, Height: 64, FPS: 30}).options(); !errors.Is(err, ErrCodec) {
		t.Errorf("nvenc on a render node: %v", err)
	}
	if got := joinOptions([]option{{"a", "1"}, {"b", "x"}}); got != "a=1\nb=x\n" {
		t.Errorf("joinOptions: %q", got)
	}
}

// Every option and value is one this libavcodec's encoder takes, checked
// on a context that is never opened, so without the hardware: an open
// on a GPU would otherwise be the first to find a misspelt option.
func TestEncoderOptionsKnown(t *testing.T) {
	for _, name := range []string{"h264_nvenc", "h264_vaapi", "vp8_vaapi"} {
		t.Run(name, func(t *testing.T) {
			if !HasEncoder(name) {
				t.Skipf("libavcodec was built without %s: its options cannot be checked", name)
			}
			dev := "/dev/dri/renderD128"
			if name == "h264_nvenc" {
				dev = "0"
			}
			for _, size := range [][3]int{{1280, 720, 30}, {1920, 1080, 30}, {1920, 1080, 60}, {3840, 2160, 30}} {
				cfg, err := EncoderConfig{Name: name, Device: dev, Width: size[0], Height: size[1], FPS: size[2], BitrateKbps: 4000}.withDefaults()
				if err != nil {
					t.Fatal(err)
				}
				opts, err := cfg.options()
				if err != nil {
					t.Fatal(err)
				}
				stored, err := checkOptions(name, opts)
				if err != nil {
					t.Errorf("%v: %v", size, err)
					continue
				}
				// The level's name must mean its level_idc to the encoder.
				if isH264(name) && stored["level"] != strconv.Itoa(cfg.LevelIDC) {
					t.Errorf("%v: level %s stored as %q, want %d", size, LevelName(cfg.LevelIDC), stored["level"], cfg.LevelIDC)
				}
				if stored["bf"] != "0" {
					t.Errorf("%v: bf stored as %q", size, stored["bf"])
				}
			}
			// The check does refuse what the encoder does not know.
			if _, err := checkOptions(name, []option{{"no-such-option", "1"}}); !errors.Is(err, ErrCodec) {
				t.Errorf("unknown option: %v, want ErrCodec", err)
			}
		})
	}
}
