//go:build cgo

package opus

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

const (
	rate  = 48000
	frame = 960 // 20 ms at 48 kHz
)

func tone(channels int, seconds float64, hz, amp float64) []int16 {
	n := int(seconds * rate)
	pcm := make([]int16, n*channels)
	for i := range n {
		v := int16(amp * math.Sin(2*math.Pi*hz*float64(i)/rate))
		for c := range channels {
			pcm[i*channels+c] = v
		}
	}
	return pcm
}

// roundTrip encodes pcm frame by frame and returns the decoded signal.
func roundTrip(t *testing.T, pcm []int16, channels int, app Application) []int16 {
	t.Helper()
	enc, err := NewEncoder(rate, channels, app)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	dec, err := NewDecoder(rate, channels)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var out []int16
	var pkt []byte
	buf := make([]int16, frame*channels)
	step := frame * channels
	for off := 0; off+step <= len(pcm); off += step {
		pkt, err = enc.Encode(pcm[off:off+step], pkt[:0])
		if err != nil {
			t.Fatal(err)
		}
		n, err := dec.Decode(pkt, buf)
		if err != nil {
			t.Fatal(err)
		}
		if n != frame {
			t.Fatalf("decoded %d samples, want %d", n, frame)
		}
		out = append(out, buf[:n*channels]...)
	}
	return out
}

func rms(pcm []int16, channels int) float64 {
	var sum float64
	n := 0
	for i := 0; i < len(pcm); i += channels {
		sum += float64(pcm[i]) * float64(pcm[i])
		n++
	}
	return math.Sqrt(sum / float64(n))
}

func zeroCrossings(pcm []int16, channels int) int {
	count := 0
	prev := pcm[0]
	for i := channels; i < len(pcm); i += channels {
		if (prev < 0) != (pcm[i] < 0) {
			count++
		}
		prev = pcm[i]
	}
	return count
}

func TestToneRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		channels int
		app      Application
	}{{1, ApplicationAudio}, {2, ApplicationAudio}, {1, ApplicationVoIP}, {2, ApplicationLowDelay}} {
		t.Run(fmt.Sprintf("ch=%d/app=%d", tc.channels, tc.app), func(t *testing.T) {
			out := roundTrip(t, tone(tc.channels, 1, 440, 10000), tc.channels, tc.app)
			// Skip the first frame: codec look-ahead makes it a fade-in.
			out = out[frame*tc.channels:]
			if r := rms(out, tc.channels); r < 5000 || r > 9000 {
				t.Errorf("RMS %.0f, want near %.0f", r, 10000/math.Sqrt2)
			}
			seconds := float64(len(out)/tc.channels) / rate
			hz := float64(zeroCrossings(out, tc.channels)) / 2 / seconds
			if math.Abs(hz-440) > 10 {
				t.Errorf("dominant frequency %.1f Hz, want ~440", hz)
			}
		})
	}
}

func TestSilenceRoundTrip(t *testing.T) {
	out := roundTrip(t, make([]int16, rate*2), 2, ApplicationAudio)
	if r := rms(out, 2); r > 2 {
		t.Errorf("silence decoded with RMS %.2f", r)
	}
}

func TestPacketLossConcealment(t *testing.T) {
	dec, err := NewDecoder(rate, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	n, err := dec.Decode(nil, make([]int16, frame))
	if err != nil || n != frame {
		t.Errorf("PLC: n=%d err=%v", n, err)
	}
}

func TestBadInput(t *testing.T) {
	if _, err := NewEncoder(44100, 2, ApplicationAudio); !errors.Is(err, ErrBadConfig) {
		t.Errorf("44.1 kHz: %v", err)
	}
	if _, err := NewEncoder(rate, 3, ApplicationAudio); !errors.Is(err, ErrBadConfig) {
		t.Errorf("3 channels: %v", err)
	}
	if _, err := NewEncoder(rate, 1, Application(42)); !errors.Is(err, ErrBadConfig) {
		t.Errorf("bad application: %v", err)
	}
	if _, err := NewDecoder(rate, 0); !errors.Is(err, ErrBadConfig) {
		t.Errorf("0 channels: %v", err)
	}
	enc, err := NewEncoder(rate, 2, ApplicationAudio)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	for _, n := range []int{0, 959 * 2, 961, 1000 * 2} {
		if _, err := enc.Encode(make([]int16, n), nil); !errors.Is(err, ErrBadFrameSize) {
			t.Errorf("%d samples: %v", n, err)
		}
	}
	// Every legal duration encodes.
	for _, n := range []int{120, 240, 480, 960, 1920, 2880} {
		if _, err := enc.Encode(make([]int16, n*2), nil); err != nil {
			t.Errorf("%d samples/channel: %v", n, err)
		}
	}
	dec, err := NewDecoder(rate, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	if _, err := dec.Decode([]byte{0xff, 0xff, 0xff}, make([]int16, frame)); !errors.Is(err, ErrCodec) {
		t.Errorf("corrupt packet: %v", err)
	}
}

func TestSetBitrate(t *testing.T) {
	enc, err := NewEncoder(rate, 2, ApplicationAudio)
	if err != nil {
		t.Fatal(err)
	}
	defer enc.Close()
	if err := enc.SetBitrate(32000); err != nil {
		t.Fatal(err)
	}
	if got, err := enc.Bitrate(); err != nil || got != 32000 {
		t.Errorf("Bitrate() = %d, %v", got, err)
	}
	if err := enc.SetBitrate(1); !errors.Is(err, ErrBadConfig) {
		t.Errorf("SetBitrate(1): %v", err)
	}
	// A lower target must give smaller packets for the same music-like input.
	pcm := tone(2, 0.5, 440, 10000)
	size := func(bps int) (total int) {
		if err := enc.SetBitrate(bps); err != nil {
			t.Fatal(err)
		}
		for off := 0; off+frame*2 <= len(pcm); off += frame * 2 {
			p, err := enc.Encode(pcm[off:off+frame*2], nil)
			if err != nil {
				t.Fatal(err)
			}
			total += len(p)
		}
		return total
	}
	if hi, lo := size(128000), size(16000); lo*2 > hi {
		t.Errorf("bitrate had little effect: %d bytes at 128k vs %d at 16k", hi, lo)
	}
}

func TestCloseTwice(t *testing.T) {
	enc, err := NewEncoder(rate, 1, ApplicationVoIP)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewDecoder(rate, 1)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := enc.Close(); err != nil {
			t.Fatal(err)
		}
		if err := dec.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := enc.Encode(make([]int16, frame), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Encode after Close: %v", err)
	}
	if err := enc.SetBitrate(64000); !errors.Is(err, ErrClosed) {
		t.Errorf("SetBitrate after Close: %v", err)
	}
	if _, err := dec.Decode([]byte{1}, make([]int16, frame)); !errors.Is(err, ErrClosed) {
		t.Errorf("Decode after Close: %v", err)
	}
}
