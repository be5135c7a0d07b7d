package benchmark

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync/atomic"
	"time"

	"github.com/streamstack/streamstack/internal/tailbuf"
)

// FFmpegLoad is the raw encoder held to a streamer's real-time rule: each
// process is an ffmpeg encoding with the streamer's settings, fed one
// frame of the pattern file on its stdin at every slot (epoch + k/FPS),
// like a live source. A frame is late when ffmpeg has not written its
// packet one interval after its slot, and a slot whose frame could not
// even be written in time (ffmpeg still busy with the ones before) is
// skipped and late, as the streamer's ticker does. So its density and the
// streamer's are measured by the same rule, and what is left between them
// is the streamer's own work.
type FFmpegLoad struct {
	FFmpeg   string
	Settings EncodeSettings
	File     string // frames of Settings as raw I420 (WritePatternI420)

	streams[*rtProc]
}

type rtProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // the reader has seen ffmpeg's output end
	stop  chan struct{}
	// slots due, late, and packets ffmpeg wrote.
	slots, late, packets atomic.Uint64
	stderr               *tailbuf.Buffer
}

func (l *FFmpegLoad) frameSize() int { return frameSize(l.Settings) }

// Add starts n more processes; concurrency is unused (a process starts in
// a few milliseconds).
func (l *FFmpegLoad) Add(ctx context.Context, n, _ int) error {
	frames, err := l.mapped(l.File, l.frameSize())
	if err != nil {
		return err
	}
	for range n {
		p, err := l.start(ctx, frames)
		if err != nil {
			return err
		}
		l.add(p)
	}
	return nil
}

func (l *FFmpegLoad) start(ctx context.Context, frames []byte) (*rtProc, error) {
	args := FFmpegArgs(l.Settings, "pipe:0")
	// Every packet as soon as it is encoded, one line each.
	args = append(args[:len(args)-3:len(args)-3], "-flush_packets", "1", "-f", "framecrc", "pipe:1")
	cmd := exec.CommandContext(ctx, l.FFmpeg, args...)
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	// A frame in one write and one read, as a capture hands the
	// streamer's encoder a whole frame: with the default 64 KiB pipe, a
	// 720p frame crosses in 22 pieces, each a wake-up of both sides.
	growPipe(pw, l.frameSize())
	cmd.Stdin = pr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		pr.Close()
		pw.Close()
		return nil, err
	}
	p := &rtProc{cmd: cmd, stdin: pw, done: make(chan struct{}), stop: make(chan struct{}), stderr: tailbuf.New(4096)}
	cmd.Stderr = p.stderr
	err = cmd.Start()
	pr.Close()
	if err != nil {
		pw.Close()
		return nil, fmt.Errorf("%s: %w", l.FFmpeg, err)
	}
	dues := make(chan time.Time, 64)
	go p.feed(frames, l.frameSize(), time.Second/time.Duration(l.Settings.FPS), dues)
	go p.read(stdout, time.Second/time.Duration(l.Settings.FPS), dues)
	return p, nil
}

// feed writes a frame at every slot it is not still busy with an earlier
// one, and tells the reader each written frame's slot time.
func (p *rtProc) feed(frames []byte, size int, interval time.Duration, dues chan<- time.Time) {
	defer close(dues)
	defer p.stdin.Close()
	n := len(frames) / size
	epoch := time.Now()
	t := time.NewTimer(0)
	defer t.Stop()
	for k, i := int64(0), 0; ; i = (i + 1) % n {
		due := epoch.Add(time.Duration(k) * interval)
		t.Reset(time.Until(due))
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		select {
		case dues <- due:
		case <-p.stop: // the reader is gone with ffmpeg's output
			return
		}
		if _, err := p.stdin.Write(frames[i*size : (i+1)*size]); err != nil {
			return
		}
		// A slot that began while writing starts at once; the ones
		// before it are lost, as the streamer's ticker drops them.
		next := max(k+1, int64(time.Since(epoch)/interval))
		if missed := next - k - 1; missed > 0 {
			p.slots.Add(uint64(missed))
			p.late.Add(uint64(missed))
		}
		k = next
	}
}

// read matches ffmpeg's packets, one per frame and in order, with the
// frames' slots.
func (p *rtProc) read(stdout io.Reader, interval time.Duration, dues <-chan time.Time) {
	defer close(p.done)
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Bytes()
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		now := time.Now()
		due, ok := <-dues
		if !ok {
			break
		}
		p.packets.Add(1)
		p.slots.Add(1)
		if now.Sub(due) > interval {
			p.late.Add(1)
		}
	}
	_, _ = io.Copy(io.Discard, stdout)
}

func (p *rtProc) close() error {
	close(p.stop)
	<-p.done // Wait closes stdout: every read first
	err := p.cmd.Wait()
	if err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("ffmpeg: %w\n%s", err, p.stderr.Lines(10))
	}
	return nil
}

// Sample sums the processes' counters, and their CPU time.
func (l *FFmpegLoad) Sample(context.Context) (LoadSample, error) {
	ps := l.snapshot()
	s := LoadSample{At: time.Now(), Sessions: len(ps), Children: childrenCPU(isCommand(l.FFmpeg))}
	for _, p := range ps {
		s.Stats.FrameSlots += p.slots.Load()
		s.Stats.LateFrames += p.late.Load()
		s.Stats.FramesEncoded += p.packets.Load()
	}
	return s, nil
}

// Remove ends the n processes started last.
func (l *FFmpegLoad) Remove(_ context.Context, n int) { _ = l.removeLast(n) }

// Close ends every process and unmaps the frames.
func (l *FFmpegLoad) Close(context.Context) error { return l.closeAll() }
