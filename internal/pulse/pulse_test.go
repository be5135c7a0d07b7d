package pulse

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// startServer starts a session server or skips when PulseAudio is not
// installed (scripts/install-deps.sh installs it).
func startServer(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("pulseaudio"); err != nil {
		t.Skip("pulseaudio not installed (scripts/install-deps.sh installs it):", err)
	}
	s, err := StartServer(context.Background(), ServerConfig{UID: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

const frame = 960 // 20 ms at 48 kHz

func tone(frames int, hz, amp float64) []int16 {
	pcm := make([]int16, frames*frame*2)
	for i := 0; i < len(pcm)/2; i++ {
		v := int16(amp * math.MaxInt16 * math.Sin(2*math.Pi*hz*float64(i)/48000))
		pcm[2*i], pcm[2*i+1] = v, v
	}
	return pcm
}

func rms(pcm []int16) float64 {
	var sum float64
	for _, v := range pcm {
		sum += float64(v) * float64(v)
	}
	return math.Sqrt(sum/float64(len(pcm))) / math.MaxInt16
}

// readUntilSound reads 20 ms frames until one is loud, at most max frames.
func readUntilSound(t testing.TB, r *Recorder, max int) (frames int) {
	t.Helper()
	pcm := make([]int16, frame*2)
	for i := range max {
		if err := r.Read(pcm); err != nil {
			t.Fatal(err)
		}
		if rms(pcm) > 0.05 {
			return i
		}
	}
	t.Fatalf("no sound in %d frames", max)
	return 0
}

func TestPlayedSoundIsRecordedFromTheMonitor(t *testing.T) {
	s := startServer(t)
	rec, err := s.NewMonitorRecorder(StreamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = rec.Close() }()
	play, err := NewPlayer(StreamConfig{Server: s.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = play.Close() }()

	// Silence first: a null sink with nothing playing records zeros, at
	// once (not after the sink's first 2 s block: see NewMonitorRecorder).
	pcm := make([]int16, frame*2)
	start := time.Now()
	if err := rec.Read(pcm); err != nil {
		t.Fatal(err)
	}
	t.Logf("first 20 ms read after %v", time.Since(start))
	if r := rms(pcm); r != 0 {
		t.Fatalf("silent sink recorded rms %.4f", r)
	}
	if err := play.Write(tone(25, 1000, 0.5)); err != nil {
		t.Fatal(err)
	}
	// Within 2 s (100 frames) of recording; the loopback benchmark says
	// how soon.
	readUntilSound(t, rec, 100)
}

func TestCloseStopsDaemonAndEndsRead(t *testing.T) {
	s := startServer(t)
	rec, err := s.NewMonitorRecorder(StreamConfig{})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 1)
	go func() {
		pcm := make([]int16, frame*2)
		for {
			if err := rec.Read(pcm); err != nil {
				_ = rec.Close()
				errs <- err
				return
			}
		}
	}()
	pid, dir := s.Pid(), s.dir
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if !errors.Is(err, ErrStream) {
			t.Fatalf("read after the server stopped: %v, want ErrStream", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a blocked Read did not end when the server stopped")
	}
	if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("daemon %d still there after Close: %v", pid, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("server directory left behind: %v", err)
	}
}

func TestStartFailsClearlyWithoutTheDaemon(t *testing.T) {
	_, err := StartServer(context.Background(), ServerConfig{Command: filepath.Join(t.TempDir(), "nope"), UID: -1})
	if !errors.Is(err, ErrServer) {
		t.Fatalf("err = %v, want ErrServer", err)
	}
}

// BenchmarkLoopback measures sound written by a client to the session
// sink until it is read back from the monitor: the audio path's share of
// an app's sound reaching the streamer.
func BenchmarkLoopback(b *testing.B) {
	s := startServer(b)
	rec, err := s.NewMonitorRecorder(StreamConfig{})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = rec.Close() }()
	play, err := NewPlayer(StreamConfig{Server: s.Addr()})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = play.Close() }()
	beep := tone(5, 1000, 0.5)
	pcm := make([]int16, frame*2)
	// Write from another goroutine: Write blocks while the stream's
	// 20 ms buffer is full, and the beep is longer than that.
	writes, written := make(chan []int16), make(chan error, 1)
	defer close(writes)
	go func() {
		for w := range writes {
			written <- play.Write(w)
		}
	}()
	var total time.Duration
	for b.Loop() {
		// Drain to silence, then time one beep.
		for {
			if err := rec.Read(pcm); err != nil {
				b.Fatal(err)
			}
			if rms(pcm) == 0 {
				break
			}
		}
		start := time.Now()
		writes <- beep
		readUntilSound(b, rec, 100)
		total += time.Since(start)
		if err := <-written; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/beep")
}

// A server run as a session's uid admits that uid and us (our group, for
// the capture), and refuses any other uid: no anonymous clients.
func TestServerAsOtherUID(t *testing.T) {
	if _, err := exec.LookPath("pulseaudio"); err != nil {
		t.Skip("pulseaudio not installed (scripts/install-deps.sh installs it):", err)
	}
	if os.Geteuid() != 0 {
		t.Skip("running the server as another uid needs root")
	}
	const app, other = 1_700_001_000, 1_700_066_536
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} { // t.TempDir's parent is 0700
		if err := os.Chmod(d, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	s, err := StartServer(context.Background(), ServerConfig{UID: app, GID: app, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	var st syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d", s.Pid()), &st); err != nil || st.Uid != app {
		t.Fatalf("daemon runs as uid %d (%v), want %d", st.Uid, err, app)
	}
	rec, err := s.NewMonitorRecorder(StreamConfig{Rate: 48000, Channels: 2, Fragment: 20 * time.Millisecond})
	if err != nil {
		t.Fatalf("our capture refused: %v", err)
	}
	_ = rec.Close()
	pactl := func(uid uint32) error {
		cmd := exec.Command("pactl", "--server", "unix:"+s.Socket, "info")
		cmd.Env = []string{"HOME=/nonexistent", "PATH=" + os.Getenv("PATH")}
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}
	if err := pactl(app); err != nil {
		t.Errorf("the app's uid refused: %v", err)
	}
	if err := pactl(other); err == nil {
		t.Error("another uid admitted")
	}
}
