package integration

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/gateway"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
	"github.com/streamstack/streamstack/streamer/pattern"
	"github.com/streamstack/streamstack/streamer/protocol"
)

var (
	paintOnce sync.Once
	paintBin  string
	paintErr  error
)

// x11paint builds internal/x11test/cmd/x11paint once: a white screen that
// paints a red square where clicked.
func x11paint(t testing.TB) string {
	t.Helper()
	paintOnce.Do(func() {
		// Beside the streamstack binary, so TestMain removes it. Apps
		// run as nobody (streamer.Config.AppUser) when the tests run as
		// root: the program must be reachable by others.
		dir := filepath.Join(filepath.Dir(binary), "x11paint")
		if err := os.Mkdir(dir, 0o755); err != nil {
			paintErr = err
			return
		}
		if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
			paintErr = err
			return
		}
		paintBin = filepath.Join(dir, "x11paint")
		out, err := exec.Command("go", "build", "-o", paintBin, "../internal/x11test/cmd/x11paint").CombinedOutput()
		if err != nil {
			paintErr = fmt.Errorf("build x11paint: %v\n%s", err, out)
		}
	})
	if paintErr != nil {
		t.Fatal(paintErr)
	}
	return paintBin
}

var x11Screen = session.Screen{Width: 640, Height: 480, FPS: 30}

// appIsolation is how this host's tests run X11 apps: in containers (CI
// runs as root with runc), or, where they cannot run, as processes, said
// in the log.
func appIsolation(tb testing.TB) string {
	if why := containersUnavailable(); why != "" {
		tb.Log("apps run without containers: " + why)
		return streamer.IsolationNone
	}
	return streamer.IsolationContainer
}

// containersUnavailable says why this host's tests cannot run apps in
// containers, "" when they can.
func containersUnavailable() string {
	if _, err := exec.LookPath("runc"); err != nil {
		return "runc is not installed (scripts/install-deps.sh installs it)"
	}
	if os.Geteuid() != 0 {
		return "they need root"
	}
	return ""
}

// startX11Stack runs a stack whose gateway and streamers share a catalogue
// of the test pattern and three X11 apps: paint, term (xterm running cat,
// so typed keys echo at the top left) and crash (exits after a moment),
// and extra; its apps in containers where this host can run them.
func startX11Stack(t *testing.T, extra ...apps.App) *stack {
	t.Helper()
	return startX11StackWith(t, appIsolation(t), extra...)
}

// startX11StackWith is startX11Stack with the apps isolated as asked.
func startX11StackWith(t testing.TB, isolation string, extra ...apps.App) *stack {
	t.Helper()
	return startX11StackAgent(t, isolation, nil, extra...)
}

// startX11StackAgent is startX11StackWith whose agent's config tweak
// changes further.
func startX11StackAgent(t testing.TB, isolation string, tweak func(*agent.Config), extra ...apps.App) *stack {
	t.Helper()
	for _, bin := range []string{"Xvfb", "xterm"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Fatalf("%s is not installed: scripts/install-deps.sh installs it", bin)
		}
	}
	// In a container the program is where a volume binds its directory.
	paint := apps.App{Name: "paint", Kind: apps.KindX11, Command: []string{x11paint(t)}, Screen: x11Screen,
		// 2 GiB: a Go program with libpulse (its 64 MiB memory pool) needs more than 1.
		Limits: apps.Limits{AddressSpaceMB: 2048, NoFile: 256}}
	if isolation == streamer.IsolationContainer {
		paint.Command = []string{"/app/x11paint"}
		paint.Volumes = []apps.Volume{{Source: filepath.Dir(x11paint(t)), Target: "/app", ReadOnly: true}}
	}
	list := []apps.App{
		{Name: "test-pattern", Kind: apps.KindPattern},
		paint,
		{Name: "term", Kind: apps.KindX11, Command: []string{"xterm", "-maximized", "-fa", "Monospace", "-fs", "20", "-e", "cat"},
			Screen: x11Screen, Limits: apps.DefaultLimits()},
		{Name: "crash", Kind: apps.KindX11, Command: []string{"sh", "-c", "sleep 1"}, Screen: x11Screen},
	}
	list = append(list, extra...)
	catalog, err := apps.New(list)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"apps": list})
	path := filepath.Join(t.TempDir(), "apps.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return startStack(t, stackOptions{
		// No virtual gamepads: the tests must not depend on whether this
		// host lets them make uinput devices.
		agent: func(c *agent.Config) {
			c.StreamerEnv = append(c.StreamerEnv, "STREAMSTACK_APPS_FILE="+path, "STREAMSTACK_GAMEPAD_UINPUT=false",
				"STREAMSTACK_APP_ISOLATION="+isolation)
			if tweak != nil {
				tweak(c)
			}
		},
		gateway: func(c *gateway.Config) { c.Apps = catalog },
	})
}

// lastPicture keeps a copy of the luma of the latest decoded frame.
type lastPicture struct {
	mu     sync.Mutex
	y      []byte
	stride int
	n      int
	at     time.Time
}

func (l *lastPicture) onFrame(img *yuv.Image, _ pattern.Stamp) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.y = append(l.y[:0], img.Y[:img.YStride*img.Height]...)
	l.stride, l.at = img.YStride, time.Now()
	l.n++
}

// meanY is the mean luma of the w×h box at (x, y) of the latest frame,
// with the time that frame was decoded.
func (l *lastPicture) meanY(x, y, w, h int) (float64, time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.y == nil {
		return -1, time.Time{}
	}
	sum := 0
	for j := y; j < y+h; j++ {
		for i := x; i < x+w; i++ {
			sum += int(l.y[j*l.stride+i])
		}
	}
	return float64(sum) / float64(w*h), l.at
}

// darkPixels counts pixels darker than 100 in the w×h box at (x, y).
func (l *lastPicture) darkPixels(x, y, w, h int) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for j := y; j < y+h; j++ {
		for i := x; i < x+w; i++ {
			if l.y[j*l.stride+i] < 100 {
				n++
			}
		}
	}
	return n
}

// descendants lists the pids below pid, from /proc's children files.
func descendants(pid int) []int {
	var out []int
	files, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, s := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(s); err == nil {
				out = append(out, c)
				out = append(out, descendants(c)...)
			}
		}
	}
	return out
}

// sessionProcesses are the streamer processes of this test and everything
// they started.
func sessionProcesses() map[int]string {
	out := map[int]string{}
	for _, s := range childProcesses() {
		pid, _ := strconv.Atoi(s)
		for _, p := range append([]int{pid}, descendants(pid)...) {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p))
			out[p] = strings.TrimSpace(string(b))
		}
	}
	return out
}

// alive reports whether pid is a process that is not a zombie.
func alive(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func x11Sockets() []string {
	m, _ := filepath.Glob("/tmp/.X11-unix/X*")
	return m
}

// A click through the control channel paints the app's square, the
// decoded video shows it, and ending the session leaves no process and no
// X socket behind.
func TestX11ClickChangesPicture(t *testing.T) {
	checkLeaks(t)
	st := startX11Stack(t)
	ctx := testCtx(t)
	socketsBefore := x11Sockets()

	if _, err := st.api.Create(ctx, client.CreateRequest{App: "no-such-app"}); err == nil ||
		!strings.Contains(err.Error(), "404") || !strings.Contains(err.Error(), "/1.0/applications") {
		t.Fatalf("unknown app: %v", err)
	}

	var pic lastPicture
	info, peer := st.open(t, ctx, client.CreateRequest{App: "paint"}, client.Options{OnFrame: pic.onFrame})
	if w, h, fps := info.Screen.Width, info.Screen.Height, info.Screen.FPS; w != x11Screen.Width || h != x11Screen.Height || fps != x11Screen.FPS {
		t.Errorf("screen %+v, want the app's %+v", info.Screen, x11Screen)
	}
	const x, y = 200, 150
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if m, _ := pic.meanY(x-8, y-8, 16, 16); m < 200 {
			return fmt.Errorf("box at (%d,%d) has luma %.0f, waiting for the white window", x, y, m)
		}
		return nil
	})
	procs := sessionProcesses()
	var xvfb, app, pulse int
	for pid, comm := range procs {
		switch comm {
		case "Xvfb":
			xvfb = pid
		case "x11paint":
			app = pid
		case "pulseaudio":
			pulse = pid
		}
	}
	if xvfb == 0 || app == 0 || pulse == 0 {
		t.Fatalf("Xvfb %d, x11paint %d and pulseaudio %d among the session's processes %v", xvfb, app, pulse, procs)
	}
	// Run as root, the stack never runs an app as root: in a container it
	// runs as its session's slot of host uids (from --app-uid-base's
	// default on); as a process the catalogue names no user, so the
	// streamer's AppUser (nobody) runs it.
	if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", app)); err == nil && os.Geteuid() == 0 {
		m := regexp.MustCompile(`(?m)^Uid:\s+(\d+)\s`).FindSubmatch(status)
		uid, _ := strconv.Atoi(string(m[1]))
		if contained := appIsolation(t) == streamer.IsolationContainer; contained && uid < 1_000_000_000 || !contained && uid != 65534 {
			t.Errorf("x11paint runs as uid %d:\n%s", uid, status)
		}
	}
	newSockets := slices.DeleteFunc(x11Sockets(), func(s string) bool { return slices.Contains(socketsBefore, s) })
	if len(newSockets) == 0 {
		t.Error("no X socket appeared for the session")
	}

	// Click to photon: from sending the click to decoding the first frame
	// that shows it, over several clicks. Each click also beeps (x11paint
	// plays 100 ms of 1 kHz into the session's sound server): click to
	// sound is the same path through the app's audio, and sound minus
	// photon is how far the audio runs behind the video.
	var sounds, avOffsets []time.Duration
	clickAt := func(x, y int) time.Duration {
		click := time.Now()
		sendClick(t, peer, x, y)
		var photon time.Duration
		natstest.CheckFor(t, 10*time.Second, time.Millisecond, func() error {
			m, at := pic.meanY(x-8, y-8, 16, 16)
			if m > 140 { // red is luma 82
				return fmt.Errorf("box at (%d,%d) still has luma %.0f after the click", x, y, m)
			}
			photon = at.Sub(click)
			return nil
		})
		soundAt, err := peer.WaitSound(ctx, click)
		if err != nil {
			t.Fatalf("no sound after the click at (%d,%d): %v (stats %+v)", x, y, err, peer.Stats())
		}
		sounds = append(sounds, soundAt.Sub(click))
		avOffsets = append(avOffsets, soundAt.Sub(click)-photon)
		// The next click's beep must start from silence.
		natstest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
			if s := peer.Stats(); s.AudioPeak >= client.SoundLevel {
				return fmt.Errorf("still sounding: peak %.3f", s.AudioPeak)
			}
			return nil
		})
		return photon
	}
	var photons []time.Duration
	for i := range 5 {
		photons = append(photons, clickAt(x+i*80, y))
	}
	// A touch acts as the left button.
	for _, m := range []struct {
		typ  string
		data any
	}{
		{protocol.InputTouchStart, map[string]int{"id": 0, "x": x, "y": y + 120}},
		{protocol.InputTouchEnd, map[string]any{"id": 0, "last": true}},
	} {
		if err := peer.SendInput(m.typ, m.data); err != nil {
			t.Fatal(err)
		}
	}
	natstest.CheckFor(t, 10*time.Second, 5*time.Millisecond, func() error {
		if m, _ := pic.meanY(x-8, y+120-8, 16, 16); m > 140 {
			return fmt.Errorf("touch at (%d,%d): luma %.0f", x, y+120, m)
		}
		return nil
	})
	if m, _ := pic.meanY(x, y+200, 16, 16); m < 200 {
		t.Errorf("away from the clicks the picture changed too: luma %.0f", m)
	}
	slices.Sort(photons)
	t.Logf("click to photon (decoded), %d clicks: min %v median %v max %v", len(photons), photons[0], photons[len(photons)/2], photons[len(photons)-1])
	slices.Sort(sounds)
	slices.Sort(avOffsets)
	t.Logf("click to sound (decoded): min %v median %v max %v; sound after picture: min %v median %v max %v",
		sounds[0], sounds[len(sounds)/2], sounds[len(sounds)-1], avOffsets[0], avOffsets[len(avOffsets)/2], avOffsets[len(avOffsets)-1])
	if s := peer.Stats(); s.AudioDecoded == 0 || s.AudioSound == 0 {
		t.Errorf("audio: %d packets decoded, %d with sound", s.AudioDecoded, s.AudioSound)
	}
	if s := st.streamerStats(t, info.ID); s.Inputs[protocol.InputMouseButton] != 10 {
		t.Errorf("streamer counted inputs %v", s.Inputs)
	}

	if err := st.api.Delete(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	st.waitStatus(t, info.ID, func(s *session.Session) bool { return s.Status == session.StatusTerminated })
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		for pid, comm := range procs {
			if alive(pid) {
				return fmt.Errorf("%s (pid %d) still running after the session ended", comm, pid)
			}
		}
		for _, s := range newSockets {
			if _, err := os.Stat(s); err == nil {
				return fmt.Errorf("X socket %s left behind", s)
			}
		}
		return nil
	})
}

// Keys typed through the control channel reach xterm: the echoed text
// appears at its top left.
func TestX11KeysReachXterm(t *testing.T) {
	checkLeaks(t)
	st := startX11Stack(t)
	ctx := testCtx(t)
	var pic lastPicture
	unsupported := make(chan protocol.Unsupported, 4)
	_, peer := st.open(t, ctx, client.CreateRequest{App: "term"}, client.Options{OnFrame: pic.onFrame,
		OnControl: func(typ string, data json.RawMessage) {
			if u, err := protocol.DecodeUnsupported(data); err == nil && typ == protocol.StreamUnsupported {
				unsupported <- u
			}
		}})
	const bx, by, bw, bh = 0, 0, 320, 40
	// Wait for xterm's window: a white screen with at most a cursor.
	var before int
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if m, _ := pic.meanY(0, 100, 640, 300); m < 200 {
			return fmt.Errorf("waiting for xterm's white window (luma %.0f)", m)
		}
		before = pic.darkPixels(bx, by, bw, bh)
		return nil
	})
	// "Hello 42": shift, letters, space, digits (Android key codes).
	keys := []struct {
		code  int
		shift bool
	}{{36, true}, {33, false}, {40, false}, {40, false}, {43, false}, {62, false}, {11, false}, {9, false}}
	press := func(code int, down bool) {
		if err := peer.SendInput(protocol.InputKey, map[string]any{"code": code, "pressed": down}); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range keys {
		if k.shift {
			press(59, true)
		}
		press(k.code, true)
		press(k.code, false)
		if k.shift {
			press(59, false)
		}
	}
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if n := pic.darkPixels(bx, by, bw, bh); n < before+150 {
			return fmt.Errorf("%d dark pixels at the top left, %d before typing: no echo", n, before)
		}
		return nil
	})

	// Gamepads are turned off for these streamers (startX11Stack): the
	// client is told, with the setting that would change it.
	if err := peer.SendInput(protocol.InputGamepadButton, map[string]any{"id": 0, "index": 0, "pressed": true}); err != nil {
		t.Fatal(err)
	}
	select {
	case u := <-unsupported:
		if u.What != protocol.InputGamepadButton || !strings.Contains(u.Reason, "--gamepad-uinput=false") {
			t.Errorf("stream::unsupported %+v", u)
		}
	case <-ctx.Done():
		t.Fatal("no stream::unsupported for a gamepad button")
	}
}

// An app that exits ends its session with reason "app exited".
func TestX11AppExitEndsSession(t *testing.T) {
	checkLeaks(t)
	st := startX11Stack(t)
	ctx := testCtx(t)
	info, err := st.api.Create(ctx, client.CreateRequest{App: "crash"})
	if err != nil {
		t.Fatal(err)
	}
	rec := st.waitStatus(t, info.ID, func(s *session.Session) bool { return s.Status.Ended() })
	if rec.Status != session.StatusTerminated || rec.Reason != streamer.ReasonAppExited {
		t.Fatalf("session ended %s with reason %q", rec.Status, rec.Reason)
	}
}

// sendClick moves the client's pointer to (x, y) and clicks the left button.
func sendClick(t *testing.T, peer *client.Peer, x, y int) {
	t.Helper()
	for _, m := range []struct {
		typ  string
		data any
	}{
		{protocol.InputMouseMove, map[string]int{"x": x, "y": y}},
		{protocol.InputMouseButton, map[string]any{"button": 1, "pressed": true}},
		{protocol.InputMouseButton, map[string]any{"button": 1, "pressed": false}},
	} {
		if err := peer.SendInput(m.typ, m.data); err != nil {
			t.Fatal(err)
		}
	}
}
