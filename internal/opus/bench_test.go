//go:build cgo

package opus

import (
	"fmt"
	"testing"
)

func BenchmarkEncode20ms(b *testing.B) {
	for _, channels := range []int{1, 2} {
		b.Run(fmt.Sprintf("ch=%d", channels), func(b *testing.B) {
			enc, err := NewEncoder(rate, channels, ApplicationAudio)
			if err != nil {
				b.Fatal(err)
			}
			defer enc.Close()
			pcm := tone(channels, 1, 440, 10000)
			step := frame * channels
			frames := len(pcm) / step
			buf := make([]byte, 0, maxPacket)
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				off := (n % frames) * step
				if buf, err = enc.Encode(pcm[off:off+step], buf[:0]); err != nil {
					b.Fatal(err)
				}
				n++
			}
			// Real-time factor: seconds of audio encoded per second.
			b.ReportMetric(float64(n)*0.020/b.Elapsed().Seconds(), "x-realtime")
		})
	}
}

func BenchmarkDecode20ms(b *testing.B) {
	enc, err := NewEncoder(rate, 2, ApplicationAudio)
	if err != nil {
		b.Fatal(err)
	}
	defer enc.Close()
	pcm := tone(2, 1, 440, 10000)
	var packets [][]byte
	for off := 0; off+frame*2 <= len(pcm); off += frame * 2 {
		p, err := enc.Encode(pcm[off:off+frame*2], nil)
		if err != nil {
			b.Fatal(err)
		}
		packets = append(packets, p)
	}
	dec, err := NewDecoder(rate, 2)
	if err != nil {
		b.Fatal(err)
	}
	defer dec.Close()
	out := make([]int16, frame*2)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		if _, err := dec.Decode(packets[n%len(packets)], out); err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(n)*0.020/b.Elapsed().Seconds(), "x-realtime")
}
