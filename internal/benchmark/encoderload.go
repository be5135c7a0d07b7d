package benchmark

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/internal/cpuclock"
	"github.com/streamstack/streamstack/internal/yuv"
)

// EncoderLoad is our encoder alone in this process, held to the
// streamer's rule: each of its sessions is a goroutine with an encoder
// opened as the streamer opens it, encoding the next frame of the pattern
// file at every tick of a 1/FPS ticker, with the streamer's slot and
// late-frame accounting (streamer/frametime.go). No capture, no network:
// set beside in-process streamers, the difference is the stack's own
// cost, scheduling on a full host included.
type EncoderLoad struct {
	Settings EncodeSettings
	File     string // frames of Settings as raw I420 (WritePatternI420)

	streams[*encWorker]
}

type encWorker struct {
	enc                  encoders.Encoder
	stop, done           chan struct{}
	slots, late, encoded atomic.Uint64
	encodeCPU            atomic.Uint64 // µs
	err                  error         // set before done closes
}

// Add starts n more encoders.
func (l *EncoderLoad) Add(_ context.Context, n, _ int) error {
	frames, err := l.mapped(l.File, frameSize(l.Settings))
	if err != nil {
		return err
	}
	b, err := encoders.Lookup(encoders.PoolCPU, l.Settings.Codec, "")
	if err != nil {
		return err
	}
	s := l.Settings
	for range n {
		enc, err := b.Open(encoders.Params{Width: s.Width, Height: s.Height, FPS: s.FPS,
			BitrateKbps: s.BitrateKbps, VP8CPUUsed: s.VP8CPUUsed, Threads: 1})
		if err != nil {
			return err
		}
		w := &encWorker{enc: enc, stop: make(chan struct{}), done: make(chan struct{})}
		go w.run(frames, s)
		l.add(w)
	}
	return nil
}

func (w *encWorker) run(frames []byte, s EncodeSettings) {
	defer close(w.done)
	size := frameSize(s)
	n := len(frames) / size
	frame := make([]byte, size)
	ySize, cSize := s.Width*s.Height, s.Width*s.Height/4
	img := &yuv.Image{Width: s.Width, Height: s.Height, Y: frame[:ySize], U: frame[ySize : ySize+cSize],
		V: frame[ySize+cSize:], YStride: s.Width, UVStride: s.Width / 2}
	interval := time.Second / time.Duration(s.FPS)
	buf := make([]byte, 0, 256<<10)
	epoch := time.Now()
	t := time.NewTicker(interval)
	defer t.Stop()
	var next int64 // the first slot not yet seen
	for i := 0; ; i = (i + 1) % n {
		var due time.Time
		select {
		case <-w.stop:
			return
		case due = <-t.C:
		}
		// streamer/frametime.go's frameClock.slot: ticks the loop was too
		// busy to take are missed slots, late.
		k := max(int64((due.Sub(epoch)+interval/2)/interval), next)
		missed := k - next
		next = k + 1
		// Into the encoder's own image first, as the streamer's capture
		// writes its frame (and ffmpeg reads one from its pipe): an
		// encoder reading each frame cold from the page cache would pay
		// memory stalls the others do not.
		copy(frame, frames[i*size:(i+1)*size])
		// The encode's own CPU time, on a thread held for it as the
		// streamer's frameTimer holds one.
		runtime.LockOSThread()
		before, ok := cpuclock.Thread()
		out, _, err := w.enc.Encode(img, false, buf[:0])
		after, ok2 := cpuclock.Thread()
		runtime.UnlockOSThread()
		if err != nil {
			w.err = err
			return
		}
		buf = out
		if ok && ok2 && after > before {
			w.encodeCPU.Add(uint64((after - before) / time.Microsecond))
		}
		w.encoded.Add(1)
		w.slots.Add(uint64(missed) + 1)
		late := uint64(missed)
		if time.Since(due) > interval {
			late++
		}
		w.late.Add(late)
	}
}

func (w *encWorker) close() error {
	close(w.stop)
	<-w.done
	return errors.Join(w.err, w.enc.Close())
}

// Sample sums the encoders' counters; their CPU time is this process's.
func (l *EncoderLoad) Sample(context.Context) (LoadSample, error) {
	ws := l.snapshot()
	s := LoadSample{At: time.Now(), Sessions: len(ws), Children: selfCPU()}
	for _, w := range ws {
		select {
		case <-w.done:
			return s, fmt.Errorf("benchmark: encoder stopped: %w", w.err)
		default:
		}
		s.Stats.FrameSlots += w.slots.Load()
		s.Stats.LateFrames += w.late.Load()
		s.Stats.FramesEncoded += w.encoded.Load()
		s.Stats.EncodeCPUMicros += w.encodeCPU.Load()
	}
	return s, nil
}

// Remove ends the n encoders started last.
func (l *EncoderLoad) Remove(_ context.Context, n int) { _ = l.removeLast(n) }

// Close ends every encoder and unmaps the frames.
func (l *EncoderLoad) Close(context.Context) error { return l.closeAll() }
