package streamer

import (
	"log/slog"
	"math"
	"testing"

	"github.com/streamstack/streamstack/internal/opus"
)

// Digital silence is encoded until it settles, then its last packet is
// repeated without the encoder; any sound makes the encoder run again, and
// the next silence is encoded afresh before it is repeated. What goes out
// decodes to silence and to the sound.
func TestSilenceRepeatsOnePacket(t *testing.T) {
	stats := newCounters()
	a, err := newAudioLoop(DefaultConfig(), slog.New(slog.DiscardHandler), stats, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = a.enc.Close() }()
	dec, err := opus.NewDecoder(audioRate, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = dec.Close() }()
	silence := make([]int16, audioSamples)
	tone := make([]int16, audioSamples)
	for i := range tone {
		tone[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/audioRate))
	}
	out := make([]int16, audioSamples)
	var buf []byte
	// peak sends pcm and decodes what went out: the cache after a repeat,
	// else what the encoder wrote into buf.
	peak := func(pcm []int16) int {
		before := stats.audioSilent.Load()
		buf = a.send(pcm, buf)
		pkt := buf
		if stats.audioSilent.Load() > before {
			pkt = a.silence
		}
		n, err := dec.Decode(pkt, out)
		if err != nil {
			t.Fatal(err)
		}
		m := 0
		for _, v := range out[:n] {
			m = max(m, int(math.Abs(float64(v))))
		}
		return m
	}
	for range 20 {
		peak(silence)
	}
	if got := stats.audioSilent.Load(); got != 20-silentFramesBeforeReuse {
		t.Fatalf("%d of 20 silent frames repeated, want %d", got, 20-silentFramesBeforeReuse)
	}
	if p := peak(tone); p < 1000 {
		t.Fatalf("sound after silence decodes to peak %d", p)
	}
	repeated := stats.audioSilent.Load()
	for i := range 20 {
		p := peak(silence)
		// Opus leaves a residue of a few LSBs (−70 dBFS and below):
		// inaudible; −60 dBFS is the bar.
		if i >= silentFramesBeforeReuse && p > 33 {
			t.Fatalf("silence %d after the sound decodes to peak %d", i, p)
		}
	}
	if got := stats.audioSilent.Load() - repeated; got != 20-silentFramesBeforeReuse {
		t.Fatalf("after sound: %d of 20 silent frames repeated, want %d", got, 20-silentFramesBeforeReuse)
	}
	if s := stats.snapshot(); s.AudioPackets != 41 || s.AudioSilentPackets != 2*(20-silentFramesBeforeReuse) {
		t.Fatalf("stats %d packets, %d silent", s.AudioPackets, s.AudioSilentPackets)
	}
}
