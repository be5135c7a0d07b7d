package benchmark

import (
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/streamer"
)

func TestProcStat(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("linux /proc format")
	}
	// A command name with spaces and a parenthesis, as the kernel writes it.
	const line = "4242 (stream (x) er) S 17 4242 17 0 -1 4194560 100 0 0 0 250 30 0 0 20 0 9 0 1000 1 1 1\n"
	p := filepath.Join(t.TempDir(), "stat")
	if err := os.WriteFile(p, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	ppid, cpu, err := procStat(p)
	if err != nil {
		t.Fatal(err)
	}
	if ppid != 17 || cpu != 2800*time.Millisecond {
		t.Errorf("ppid %d cpu %v, want 17 and 2.8s", ppid, cpu)
	}
}

func TestFFmpegArgsMatchTheStreamer(t *testing.T) {
	s := EncodeSettings{Codec: encoders.VP8, Width: 1280, Height: 720, FPS: 30, BitrateKbps: 2764}
	vp8 := FFmpegArgs(s, "in.yuv")
	for _, want := range [][]string{{"-c:v", "libvpx"}, {"-cpu-used", "-8"}, {"-deadline", "realtime"},
		{"-threads", "1"}, {"-b:v", "2764k"}, {"-s", "1280x720"}, {"-g", "300"}, {"-i", "in.yuv"}} {
		if !hasPair(vp8, want) {
			t.Errorf("VP8 args %v lack %v", vp8, want)
		}
	}
	s.Codec = encoders.H264
	h264 := FFmpegArgs(s, "in.yuv")
	for _, want := range [][]string{{"-c:v", "libx264"}, {"-preset", "ultrafast"}, {"-tune", "zerolatency"},
		{"-bufsize", "92k"}, {"-threads", "1"}} {
		if !hasPair(h264, want) {
			t.Errorf("H.264 args %v lack %v", h264, want)
		}
	}
}

func hasPair(args, pair []string) bool {
	for i := range len(args) - 1 {
		if slices.Equal(args[i:i+2], pair) {
			return true
		}
	}
	return false
}

func TestWindow(t *testing.T) {
	at := time.Unix(100, 0)
	a := LoadSample{At: at, Sessions: 2, Self: time.Second, Children: 10 * time.Second}
	a.Stats = streamer.Stats{FrameSlots: 100, LateFrames: 1, FramesEncoded: 100, DrawCPUMicros: 1000, EncodeCPUMicros: 3000, SendCPUMicros: 500}
	b := LoadSample{At: at.Add(10 * time.Second), Sessions: 2, Self: 2 * time.Second, Children: 12 * time.Second}
	b.Stats = streamer.Stats{FrameSlots: 700, LateFrames: 7, FramesEncoded: 700, DrawCPUMicros: 61000,
		EncodeCPUMicros: 1803000, SendCPUMicros: 30500, BytesEncoded: 2_500_000}
	w := Window(a, b)
	if w.Slots != 600 || w.Late != 6 || w.LateRatio() != 0.01 {
		t.Errorf("slots %d late %d ratio %v", w.Slots, w.Late, w.LateRatio())
	}
	if w.Draw != 100*time.Microsecond || w.Encode != 3*time.Millisecond || w.Send != 50*time.Microsecond {
		t.Errorf("stages %v %v %v", w.Draw, w.Encode, w.Send)
	}
	// 2 s of streamer CPU over 600 frames: 3.333 ms, of which 3.15 ms in the stages.
	if w.StreamerOther < 183*time.Microsecond || w.StreamerOther > 184*time.Microsecond {
		t.Errorf("streamer other %v", w.StreamerOther)
	}
	if w.StreamersCPU != 0.2 || w.ReceiversCPU != 0.1 || w.Kbps != 1000 {
		t.Errorf("cores %v %v, kbps %v", w.StreamersCPU, w.ReceiversCPU, w.Kbps)
	}
}
