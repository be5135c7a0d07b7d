package apphost

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/streamstack/streamstack/internal/pulse"
)

// appAudio is an X11 session's sound: a private PulseAudio server whose
// null sink is the app's only output, and the capture of that sink's
// monitor in 20 ms frames of 48 kHz stereo, Opus's frame, ready to
// encode.
type appAudio struct {
	log    *slog.Logger
	server *pulse.Server
	rec    *pulse.Recorder
	env    string // PULSE_SERVER for an app without a container
	frames chan []int16
	// dropped counts frames no audio loop took: nobody connected, or the
	// loop fell behind. Audio is live; a backlog would only add delay.
	dropped atomic.Uint64
	wg      sync.WaitGroup
}

// The app's sound, as AudioFrames delivers it: Opus's frame, 20 ms of
// 48 kHz, interleaved stereo, ready for the streamer to encode (which
// uses these for its own silence and tone too).
const (
	// AudioRate is the sample rate, in Hz.
	AudioRate = 48000
	// AudioFrame is the length of one frame.
	AudioFrame = 20 * time.Millisecond
	// AudioSamples is one frame's samples per channel.
	AudioSamples = AudioRate / 50
	// AudioChannels: apps play stereo; Opus in WebRTC carries two.
	AudioChannels = 2
)

// audioFrameQueue is how many captured frames wait for the audio loop:
// 40 ms, beyond which the oldest sound is older than the video beside it.
const audioFrameQueue = 2

// startAppAudio starts the session's sound server, reachable by the app's
// user (uid -1: ours), and the capture of what it plays; its socket in
// socketDir when set (a container's shared directory).
func startAppAudio(ctx context.Context, cfg Config, uid, gid int, socketDir string, log *slog.Logger) (_ *appAudio, err error) {
	srv, err := pulse.StartServer(ctx, pulse.ServerConfig{Command: cfg.PulseCommand, Rate: AudioRate,
		Channels: AudioChannels, UID: uid, GID: gid, SocketDir: socketDir,
		StartTimeout: cfg.AppStartTimeout, StopTimeout: cfg.AppStopTimeout, Dir: cfg.RuntimeDir})
	if err != nil {
		return nil, fmt.Errorf("app audio (or set --app-audio=false): %w", err)
	}
	defer func() {
		if err != nil {
			_ = srv.Close()
		}
	}()
	// Without a container the app, another process, connects to the
	// socket's path itself; in one it takes the short path it is bound at.
	var env string
	if socketDir == "" {
		if env, err = srv.Env(); err != nil {
			return nil, fmt.Errorf("app audio: %w", err)
		}
	}
	rec, err := srv.NewMonitorRecorder(pulse.StreamConfig{Rate: AudioRate, Channels: AudioChannels,
		Fragment: AudioFrame})
	if err != nil {
		// The daemon's last lines say why it refused or went.
		return nil, fmt.Errorf("app audio capture: %w (sound server log: %q)", err, srv.Log())
	}
	a := &appAudio{log: log, server: srv, rec: rec, env: env, frames: make(chan []int16, audioFrameQueue)}
	a.wg.Go(a.capture)
	log.Info("app audio", "pulse_pid", srv.Pid(), "socket", srv.Socket)
	return a, nil
}

// capture reads the monitor until the server goes away. Frames rotate
// through a ring one longer than the queue plus the frame being encoded,
// so a frame is never overwritten while the audio loop holds it.
func (a *appAudio) capture() {
	defer close(a.frames)
	defer func() { _ = a.rec.Close() }()
	var ring [audioFrameQueue + 2][]int16
	for i := range ring {
		ring[i] = make([]int16, AudioSamples*AudioChannels)
	}
	for i := 0; ; {
		buf := ring[i%len(ring)]
		if err := a.rec.Read(buf); err != nil {
			a.log.Debug("app audio capture ended", "err", err)
			return
		}
		select {
		case a.frames <- buf:
			i++
		default:
			a.dropped.Add(1)
		}
	}
}

// Env points an app without a container at the session's sound server.
func (a *appAudio) Env() string { return a.env }

// Frames delivers captured frames; it is closed when capture ends.
func (a *appAudio) Frames() <-chan []int16 { return a.frames }

// Pid is the sound server's process id.
func (a *appAudio) Pid() int { return a.server.Pid() }

// Close stops the server, which ends the capture, and waits for both.
func (a *appAudio) Close() {
	_ = a.server.Close()
	a.wg.Wait()
}
