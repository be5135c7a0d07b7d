package integration

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/gateway"
	"github.com/streamstack/streamstack/internal/benchmark"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
)

// The web client and the JS SDK in Debian's chromium against a whole stack
// with real streamer processes. Helpers are in browser_helpers_test.go.

// browserTest starts a browser test: skipped or failed at once without
// chromium (see needChromium), and checked for leaks when it ends.
func browserTest(t *testing.T) {
	t.Helper()
	needChromium(t)
	checkLeaks(t)
}

// playInBrowser opens the web client with q (and the stack's token), waits
// for at least frames frames shown, and returns the session id.
func (s *stack) playInBrowser(t *testing.T, b *browser, q url.Values, frames int) string {
	t.Helper()
	q.Set("token", s.token)
	b.navigate(s.clientURL(q))
	waitFor[bool](b, 30*time.Second, fmt.Sprintf(`window.streamstack && window.streamstack.frames >= %d`, frames), pageState)
	return eval[string](b, `window.streamstack.sessionId`)
}

func TestBrowserCodecs(t *testing.T) {
	for _, codec := range []string{"VP8", "H264"} {
		t.Run(codec, func(t *testing.T) {
			browserTest(t)
			st := startStack(t, stackOptions{})
			b := startBrowser(t)
			id := st.playInBrowser(t, b, url.Values{"autostart": {"1"}, "joinable": {"0"}, "codec": {codec}}, 30)

			// The browser decoded what the streamer encodes.
			got := waitFor[string](b, 10*time.Second, `window.streamstack.client.stats?.codec`, pageState)
			if !strings.EqualFold(got, codec) {
				t.Fatalf("browser decodes %q, want %s", got, codec)
			}
			if s := st.streamerStats(t, id); !strings.EqualFold(s.Codec, codec) || !s.Connected {
				t.Fatalf("streamer: codec %q connected %v", s.Codec, s.Connected)
			}
			// getStats is read on the page's stats interval: wait for it
			// to catch up with the frames shown, however busy the host.
			waitFor[bool](b, 10*time.Second, `window.streamstack.client.stats.framesDecoded >= 20`, pageState)

			// The overlay shows live numbers.
			waitFor[bool](b, 10*time.Second, `(() => {
				const v = (k) => document.querySelector('[data-stat="' + k + '"]').textContent;
				return !document.getElementById("stats").hidden && parseFloat(v("fps")) > 0 &&
					parseFloat(v("bitrate")) > 0 && v("resolution") === "1280×720" && v("codec") === `+jsonString(strings.ToUpper(codec))+` &&
					v("first-frame").endsWith(" ms") && v("rtt").endsWith(" ms");
			})()`, `document.getElementById("stats").innerText`)
			b.screenshot("browser-" + strings.ToLower(codec))
		})
	}
}

func TestBrowserInputReachesStreamer(t *testing.T) {
	browserTest(t)
	st := startStack(t, stackOptions{})
	b := startBrowser(t)
	id := st.playInBrowser(t, b, url.Values{"autostart": {"1"}, "joinable": {"0"}}, 30)

	x, y := b.elementCenter("#video")
	b.do(10*time.Second,
		chromedp.MouseEvent(chromedp.MouseMoved, x-40, y-20),
		chromedp.MouseClickXY(x, y),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseWheel, x, y, func(p *input.DispatchMouseEventParams) {
			p.DeltaX, p.DeltaY = 1, 120 // the protocol sends both as zero-omitting fields: neither may be 0
		}),
		chromedp.KeyEvent("a"),
	)
	// Two fingers down, one moves, both lift.
	touch := func(typ input.DispatchTouchEventType, pts ...[2]float64) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tgt *chromedp.Target) error {
			var tp []*input.TouchPoint
			for i, p := range pts {
				tp = append(tp, &input.TouchPoint{X: p[0], Y: p[1], ID: ptr(float64(i + 1))})
			}
			_, err := chromedp.Call(ctx, input.DispatchTouchEvent, input.DispatchTouchEventParams{Type: typ, TouchPoints: tp})
			return err
		})
	}
	enableTouch := chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{Enabled: true, MaxTouchPoints: 5})
		return err
	})
	b.do(10*time.Second,
		enableTouch,
		touch(input.DispatchTouchEventTypeTouchStart, [2]float64{x - 100, y}, [2]float64{x + 100, y}),
		touch(input.DispatchTouchEventTypeTouchMove, [2]float64{x - 90, y + 10}, [2]float64{x + 100, y}),
		touch(input.DispatchTouchEventTypeTouchEnd),
	)

	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		s := st.streamerStats(t, id)
		in := s.Inputs
		if in["input::mouse-move"] < 1 || in["input::mouse-button"] < 2 || in["input::mouse-wheel"] < 1 ||
			in["input::key"] < 2 || in["input::touch-start"] < 2 || in["input::touch-move"] < 1 || in["input::touch-end"] < 2 {
			return fmt.Errorf("inputs so far: %v", in)
		}
		if s.InputErrors != 0 {
			return fmt.Errorf("the streamer refused %d input messages: %v", s.InputErrors, in)
		}
		return nil
	})

	// The test pattern serves no gamepad: the SDK's "unsupported" event
	// and the page's notice say so.
	eval[bool](b, `(() => {
		const c = window.streamstack.client;
		window.unsupported = [];
		c.on("unsupported", (d) => window.unsupported.push(d));
		return c.gamepadButton(0, 0, true);
	})()`)
	what := waitFor[string](b, 10*time.Second,
		`!document.getElementById("notice").hidden && window.unsupported.length > 0 && window.unsupported[0].what`,
		`JSON.stringify(window.unsupported)`)
	if what != "input::gamepad-button" {
		t.Errorf("unsupported %q, want input::gamepad-button", what)
	}
	if text := eval[string](b, `document.getElementById("notice").textContent`); !strings.Contains(text, "Gamepads are not supported") {
		t.Errorf("notice %q", text)
	}
}

func ptr[T any](v T) *T { return &v }

// TestBrowserClickToUnmute plays where the browser wants a user gesture
// before sound: the stream plays muted with an unmute button, and a click
// on it turns the sound on. Headless chromium lets a page that DevTools
// opened play sound whatever --autoplay-policy says (its evaluations count
// as user gestures), so the page gets the usual desktop policy from a
// script: play() with sound is refused until a real click or key press.
func TestBrowserClickToUnmute(t *testing.T) {
	browserTest(t)
	st := startStack(t, stackOptions{})
	b := startBrowser(t)
	b.addInitScript(`(() => {
		let gesture = false;
		for (const type of ["pointerdown", "keydown"]) {
			addEventListener(type, (e) => { if (e.isTrusted) gesture = true; }, true);
		}
		const play = HTMLMediaElement.prototype.play;
		HTMLMediaElement.prototype.play = function () {
			if (!this.muted && !gesture) {
				return Promise.reject(new DOMException("play() with sound needs a user gesture", "NotAllowedError"));
			}
			return play.call(this);
		};
	})()`)
	st.playInBrowser(t, b, url.Values{"autostart": {"1"}, "joinable": {"0"}}, 10)
	waitFor[bool](b, 10*time.Second, `!document.getElementById("btn-unmute").hidden && document.getElementById("video").muted`,
		`JSON.stringify({muted: document.getElementById("video").muted, button: !document.getElementById("btn-unmute").hidden})`)
	b.do(10*time.Second, chromedp.Click(chromedp.ID("btn-unmute")))
	waitFor[bool](b, 10*time.Second, `document.getElementById("btn-unmute").hidden && !document.getElementById("video").muted && !document.getElementById("video").paused`,
		`JSON.stringify({muted: document.getElementById("video").muted, paused: document.getElementById("video").paused})`)
	if n := eval[int](b, `window.streamstack.client.stream.getAudioTracks().length`); n != 1 {
		t.Fatalf("%d audio tracks", n)
	}
}

func TestBrowserReloadRejoins(t *testing.T) {
	browserTest(t)
	st := startStack(t, stackOptions{})
	b := startBrowser(t)
	first := st.playInBrowser(t, b, url.Values{"autostart": {"1"}, "joinable": {"1"}, "idle": {"1"}}, 30)

	b.do(30*time.Second, chromedp.Reload())
	waitFor[bool](b, 30*time.Second, `window.streamstack && window.streamstack.state === "connected" && window.streamstack.frames >= 30`, pageState)
	if again := eval[string](b, `window.streamstack.sessionId`); again != first {
		t.Fatalf("after the reload the page plays session %s, want %s again", again, first)
	}
	// The token came from localStorage: the address bar no longer has it.
	if u := eval[string](b, `location.href`); strings.Contains(u, "token=") {
		t.Fatalf("the token stays in the address bar: %s", u)
	}
	resp, err := http.Get(st.baseURL + "/1.0/sessions?api_token=" + url.QueryEscape(st.token))
	if err != nil {
		t.Fatal(err)
	}
	var ids struct{ Metadata []string }
	err = json.NewDecoder(resp.Body).Decode(&ids)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(ids.Metadata) != 1 || ids.Metadata[0] != first {
		t.Fatalf("sessions %v, want only %s", ids.Metadata, first)
	}
	rec := st.waitStatus(t, first, func(s *session.Session) bool { return s.Status == session.StatusActive })
	if !rec.Joinable {
		t.Fatalf("record %+v", rec)
	}
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if s := st.streamerStats(t, first); s.PeersConnected != 2 || !s.Connected {
			return fmt.Errorf("streamer: %d peers connected, connected now %v", s.PeersConnected, s.Connected)
		}
		return nil
	})
}

// TestBrowserReconnectsAfterDrop drops the page's peer connection from the
// streamer's side (another client joins the session, and the streamer
// serves one peer at a time): the page joins the joinable session again by
// itself and frames flow again.
func TestBrowserReconnectsAfterDrop(t *testing.T) {
	browserTest(t)
	st := startStack(t, stackOptions{})
	b := startBrowser(t)
	id := st.playInBrowser(t, b, url.Values{"autostart": {"1"}, "joinable": {"1"}, "idle": {"1"}}, 10)
	eval[chromedp.Void](b, `(() => { window.__reconnects = 0;
		window.streamstack.client.on("reconnecting", () => window.__reconnects++); })()`)

	ctx := testCtx(t)
	info, err := st.api.Join(ctx, id, hd)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := client.DialWebsocket(ctx, info.URL)
	if err != nil {
		t.Fatal(err)
	}
	other, err := client.NewPeer(sig, client.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	// The page takes the session back at once, which may drop this peer
	// before it is through: its outcome does not matter.
	connectCtx, stopConnect := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = other.Connect(connectCtx) })
	defer func() {
		stopConnect()
		wg.Wait()
		_ = other.Close()
	}()
	waitFor[bool](b, 30*time.Second, `window.__reconnects >= 1 && window.streamstack.state === "connected"`,
		`JSON.stringify({reconnects: window.__reconnects, page: `+pageState+`})`)
	if again := eval[string](b, `window.streamstack.sessionId`); again != id {
		t.Fatalf("reconnected to %s, want %s", again, id)
	}
	frames := eval[int](b, `window.streamstack.client.framesRendered`)
	waitFor[bool](b, 30*time.Second, fmt.Sprintf(`window.streamstack.client.framesRendered >= %d`, frames+30), pageState)
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if s := st.streamerStats(t, id); s.PeersConnected < 2 || !s.Connected {
			return fmt.Errorf("streamer: %d peers connected, connected now %v", s.PeersConnected, s.Connected)
		}
		return nil
	})
}

// errorShown waits for the web client's error panel with code and returns
// its text.
func errorShown(t *testing.T, b *browser, code string) string {
	t.Helper()
	return waitFor[string](b, 30*time.Second, `(() => { const e = document.getElementById("error");
		return !e.hidden && e.dataset.code === `+jsonString(code)+` && e.innerText; })()`,
		`JSON.stringify({error: document.getElementById("error").innerText, code: document.getElementById("error").dataset.code, state: `+pageState+`})`)
}

func TestBrowserFailureMessages(t *testing.T) {
	t.Run("wrong token", func(t *testing.T) {
		browserTest(t)
		st := startStack(t, stackOptions{noAgent: true})
		b := startBrowser(t)
		b.navigate(st.clientURL(url.Values{"token": {"not-the-token"}, "autostart": {"1"}}))
		text := errorShown(t, b, "unauthorized")
		for _, want := range []string{"Wrong API token", "401", "token"} {
			if !strings.Contains(text, want) {
				t.Fatalf("error panel %q does not say %q", text, want)
			}
		}
		b.screenshot("browser-wrong-token")
	})
	t.Run("token from a link refused", func(t *testing.T) {
		browserTest(t)
		st := startStack(t, stackOptions{noAgent: true})
		b := startBrowser(t)
		b.mu.Lock()
		b.refuse = true
		b.mu.Unlock()
		b.navigate(st.clientURL(url.Values{"token": {st.token}, "autostart": {"1"}}))
		// Not kept, not used: the launcher asks for a token, the address bar
		// no longer shows it.
		waitFor[bool](b, 10*time.Second, `!document.getElementById("launcher").hidden && !location.search.includes("token")`, pageState)
		if kept := eval[string](b, `localStorage.getItem("streamstack.token") || ""`); kept != "" {
			t.Fatalf("token kept after the person refused it: %q", kept)
		}
		b.mu.Lock()
		dialogs := slices.Clone(b.dialogs)
		b.mu.Unlock()
		if len(dialogs) != 1 || !strings.Contains(dialogs[0], "API token") {
			t.Fatalf("dialogs %q", dialogs)
		}
		if ids, err := st.Store.List(context.Background(), func(*session.Session) bool { return true }); err != nil || len(ids) != 0 {
			t.Fatalf("sessions %v %v", ids, err)
		}
	})
	t.Run("no capacity", func(t *testing.T) {
		browserTest(t)
		st := startStack(t, stackOptions{agent: func(c *agent.Config) {
			c.Cores, c.UnitsPerCore = 1, 0.1 // a 720p30 session needs 1 unit
			c.PlacementTimeout = time.Second
		}})
		b := startBrowser(t)
		b.navigate(st.clientURL(url.Values{"token": {st.token}, "autostart": {"1"}, "joinable": {"0"}}))
		text := errorShown(t, b, "no-capacity")
		if !strings.Contains(text, "No capacity") || !strings.Contains(text, "busy") {
			t.Fatalf("error panel %q", text)
		}
		b.screenshot("browser-no-capacity")
	})
	t.Run("session ended", func(t *testing.T) {
		browserTest(t)
		st := startStack(t, stackOptions{})
		b := startBrowser(t)
		id := st.playInBrowser(t, b, url.Values{"autostart": {"1"}, "joinable": {"0"}}, 10)
		if err := st.api.Delete(context.Background(), id); err != nil {
			t.Fatal(err)
		}
		text := errorShown(t, b, "session-ended")
		if !strings.Contains(text, "Session ended") || !strings.Contains(text, session.ReasonDeleted) {
			t.Fatalf("error panel %q", text)
		}
	})
}

// wireRecorder records, in order, what a page sends and receives on its
// websockets, the data channels it creates, its fetches and when it closes a
// websocket (with the peer connections' ICE states then).
const wireRecorder = `(() => {
	const log = [];
	window.__wire = log;
	const pcs = [];
	const OrigPC = window.RTCPeerConnection;
	window.RTCPeerConnection = class extends OrigPC {
		constructor(...a) { super(...a); pcs.push(this); }
	};
	const origDC = OrigPC.prototype.createDataChannel;
	OrigPC.prototype.createDataChannel = function (label, ...rest) {
		log.push({dir: "datachannel", data: String(label)});
		return origDC.call(this, label, ...rest);
	};
	const OrigWS = window.WebSocket;
	window.WebSocket = class extends OrigWS {
		constructor(url, ...rest) {
			super(url, ...rest);
			log.push({dir: "open", data: String(url)});
			this.addEventListener("message", (e) => log.push({dir: "recv", data: String(e.data)}));
		}
	};
	const origSend = OrigWS.prototype.send;
	OrigWS.prototype.send = function (data) {
		log.push({dir: "sent", data: String(data)});
		return origSend.call(this, data);
	};
	const origClose = OrigWS.prototype.close;
	OrigWS.prototype.close = function (...a) {
		log.push({dir: "close", data: pcs.map((p) => p.iceConnectionState).join(",")});
		return origClose.apply(this, a);
	};
	const origFetch = window.fetch;
	window.fetch = function (input, init = {}) {
		const h = new Headers(init.headers || {});
		log.push({dir: "fetch", data: JSON.stringify({url: String(input), method: init.method || "GET",
			authorization: h.get("Authorization"), body: init.body ? String(init.body) : ""})});
		return origFetch.call(this, input, init);
	};
})();`

type wireEvent struct {
	Dir  string `json:"dir"`
	Data string `json:"data"`
}

// checkAnboxWire checks a recorded exchange against the Anbox streaming
// SDK's protocol: POST /1.0/sessions/ with a Macaroon token, the websocket
// at metadata.url, data channels made before the offer arrives, discover,
// settings (API version 2), the streamer's base64 offer, a base64 answer,
// base64 candidates, and the websocket closed once ICE connected.
func checkAnboxWire(t *testing.T, log []wireEvent, token string, channels []string, codec string) {
	t.Helper()
	dump := func() string {
		var b strings.Builder
		for i, e := range log {
			d := e.Data
			if len(d) > 160 {
				d = d[:160] + "…"
			}
			fmt.Fprintf(&b, "\n%3d %-11s %s", i, e.Dir, d)
		}
		return b.String()
	}
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf(format+"\nrecorded:%s", append(args, dump())...)
	}
	index := func(from int, ok func(wireEvent) bool) int {
		for i := from; i < len(log); i++ {
			if ok(log[i]) {
				return i
			}
		}
		return -1
	}
	typeOf := func(e wireEvent) string {
		var m struct{ Type string }
		_ = json.Unmarshal([]byte(e.Data), &m)
		return m.Type
	}
	is := func(dir, typ string) func(wireEvent) bool {
		return func(e wireEvent) bool { return e.Dir == dir && typeOf(e) == typ }
	}

	// The create call, as the SDK makes it.
	create := index(0, func(e wireEvent) bool {
		return e.Dir == "fetch" && strings.Contains(e.Data, `"method":"POST"`) && strings.Contains(e.Data, "/1.0/sessions/")
	})
	if create < 0 {
		fail("no POST /1.0/sessions/")
	}
	var call struct{ URL, Method, Authorization, Body string }
	if err := json.Unmarshal([]byte(log[create].Data), &call); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(call.URL, "/1.0/sessions/") || call.Authorization != "Macaroon root="+token {
		fail("create call %+v", call)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(call.Body), &body); err != nil || body["app"] != "test-pattern" {
		fail("create body %q: %v", call.Body, err)
	}

	open := index(create, func(e wireEvent) bool { return e.Dir == "open" })
	if open < 0 || !strings.Contains(log[open].Data, "/sockets/client?token=") {
		fail("no websocket to the session's url")
	}
	discover := index(open, func(e wireEvent) bool { return e.Dir == "sent" })
	if discover < 0 || log[discover].Data != `{"type":"discover"}` {
		fail("first frame sent is not {\"type\":\"discover\"}")
	}
	// The data channels exist before the streamer's offer.
	offer := index(open, is("recv", "offer"))
	if offer < 0 {
		fail("no offer from the streamer")
	}
	var made []string
	for _, e := range log[:offer] {
		if e.Dir == "datachannel" {
			made = append(made, e.Data)
		}
	}
	if want := append([]string{"control"}, channels...); !slices.Equal(made, want) {
		fail("data channels made before the offer: %v, want %v", made, want)
	}
	if index(offer, func(e wireEvent) bool { return e.Dir == "datachannel" }) >= 0 {
		fail("a data channel made after the offer")
	}
	if rd := index(open, is("recv", "resp:discover")); rd < 0 || rd > offer {
		fail("no resp:discover before the offer")
	}

	// settings follows resp:discover.
	settingsAt := index(open, is("sent", "settings"))
	if settingsAt < 0 || settingsAt < index(open, is("recv", "resp:discover")) || settingsAt > offer {
		fail("settings not sent between resp:discover and the offer")
	}
	var settings struct {
		Type             string    `json:"type"`
		APIVersion       *int      `json:"api_version"`
		DataChannels     *[]string `json:"data_channels"`
		EnableSpeaker    *bool     `json:"enable_speaker"`
		EnableMicrophone *bool     `json:"enable_microphone"`
		EnableVideo      *bool     `json:"enable_video"`
		EnableCamera     *bool     `json:"enable_camera"`
		Video            *struct {
			Codecs []string `json:"preferred_decoder_codecs"`
		} `json:"video"`
	}
	if err := json.Unmarshal([]byte(log[settingsAt].Data), &settings); err != nil {
		t.Fatal(err)
	}
	if settings.APIVersion == nil || *settings.APIVersion != 2 || settings.DataChannels == nil ||
		!slices.Equal(*settings.DataChannels, append([]string{}, channels...)) ||
		settings.EnableSpeaker == nil || !*settings.EnableSpeaker || settings.EnableVideo == nil || !*settings.EnableVideo ||
		settings.EnableMicrophone == nil || *settings.EnableMicrophone || settings.EnableCamera == nil || *settings.EnableCamera ||
		settings.Video == nil || !slices.Equal(settings.Video.Codecs, []string{codec}) {
		fail("settings %s", log[settingsAt].Data)
	}

	// The streamer's offer and the page's answer carry base64 SDP.
	var sdp struct{ SDP string }
	_ = json.Unmarshal([]byte(log[offer].Data), &sdp)
	if raw, err := base64.StdEncoding.DecodeString(sdp.SDP); err != nil || !strings.HasPrefix(string(raw), "v=0") {
		fail("offer sdp is not base64 SDP: %v", err)
	}
	answer := index(offer, is("sent", "answer"))
	if answer < 0 {
		fail("no answer after the offer")
	}
	_ = json.Unmarshal([]byte(log[answer].Data), &sdp)
	raw, err := base64.StdEncoding.DecodeString(sdp.SDP)
	if err != nil || !strings.HasPrefix(string(raw), "v=0") || !strings.Contains(string(raw), "m=video") ||
		!strings.Contains(string(raw), "m=application") {
		fail("answer sdp is not base64 SDP with video and data: %v", err)
	}

	// Candidates both ways: base64 candidate lines with their m-line; the
	// page's follow its answer. ICE may connect on the streamer's
	// candidates before the page has sent one of its own (its host
	// addresses hide behind mDNS names first), so the page's are checked
	// when there are any.
	sent, received := 0, 0
	for i, e := range log {
		if (e.Dir != "sent" && e.Dir != "recv") || typeOf(e) != "candidate" {
			continue
		}
		if e.Dir == "sent" && i < answer {
			fail("candidate %d sent before the answer", i)
		}
		var c struct {
			Candidate     string   `json:"candidate"`
			SDPMid        *string  `json:"sdpMid"`
			SDPMLineIndex *float64 `json:"sdpMLineIndex"`
		}
		if err := json.Unmarshal([]byte(e.Data), &c); err != nil {
			t.Fatal(err)
		}
		line, err := base64.StdEncoding.DecodeString(c.Candidate)
		if err != nil || !strings.HasPrefix(string(line), "candidate:") || c.SDPMid == nil || c.SDPMLineIndex == nil {
			fail("candidate frame %s", e.Data)
		}
		if e.Dir == "sent" {
			sent++
		} else {
			received++
		}
	}
	if received == 0 {
		fail("no candidate from the streamer")
	}
	t.Logf("candidates: %d sent, %d received", sent, received)
	// Nothing else goes over the websocket.
	for _, e := range log {
		if e.Dir == "sent" && !slices.Contains([]string{"discover", "settings", "answer", "candidate"}, typeOf(e)) {
			fail("unexpected frame sent: %s", e.Data)
		}
	}
	// The page closes the websocket once ICE connected.
	closed := index(answer, func(e wireEvent) bool { return e.Dir == "close" })
	if closed < 0 || !(strings.Contains(log[closed].Data, "connected") || strings.Contains(log[closed].Data, "completed")) {
		fail("websocket not closed once ICE connected")
	}
}

// embedPage is a page on another origin that embeds a stream with the SDK
// served by the gateway.
const embedPage = `<!doctype html>
<meta charset="utf-8"><title>a game site</title>
<body style="margin:0;background:#222">
<video id="v" autoplay playsinline muted style="width:640px;height:480px;background:#000"></video>
<script type="module">
import { StreamstackClient } from "GATEWAY/sdk/streamstack.js";
const client = new StreamstackClient({url: "GATEWAY", token: TOKEN, app: "test-pattern",
	dataChannels: ["game"], preferredCodecs: ["VP8"]});
window.client = client;
window.failure = null;
client.attachVideo(document.getElementById("v"));
client.on("error", (e) => { window.failure = {code: e.code, message: e.message, hint: e.hint}; });
client.connect().catch(() => {});
</script>`

// serveEmbedPage serves embedPage on its own origin (another port than
// the gateway's); the page uses the gateway and token given to configure.
func serveEmbedPage(t *testing.T) (origin string, configure func(gateway, token string)) {
	t.Helper()
	var mu sync.Mutex
	var gw, tok string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		page := strings.ReplaceAll(embedPage, "GATEWAY", gw)
		page = strings.ReplaceAll(page, "TOKEN", jsonString(tok))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(page))
	}))
	t.Cleanup(srv.Close)
	return srv.URL, func(gateway, token string) {
		mu.Lock()
		defer mu.Unlock()
		gw, tok = gateway, token
	}
}

func TestBrowserAnboxWireProtocol(t *testing.T) {
	t.Run("web client", func(t *testing.T) {
		browserTest(t)
		st := startStack(t, stackOptions{})
		b := startBrowser(t)
		b.addInitScript(wireRecorder)
		st.playInBrowser(t, b, url.Values{"autostart": {"1"}, "joinable": {"0"}, "codec": {"VP8"}}, 10)
		waitFor[bool](b, 10*time.Second, `window.__wire.some((e) => e.dir === "close")`, `JSON.stringify(window.__wire)`)
		checkAnboxWire(t, eval[[]wireEvent](b, `window.__wire`), st.token, nil, "VP8")
	})

	t.Run("SDK embedded on another origin", func(t *testing.T) {
		browserTest(t)
		// A page on another origin (another port), allowed by the gateway.
		origin, configure := serveEmbedPage(t)
		st := startStack(t, stackOptions{gateway: func(c *gateway.Config) { c.AllowedOrigins = []string{origin} }})
		configure(st.baseURL, st.token)
		b := startBrowser(t)
		b.addInitScript(wireRecorder)
		b.navigate(origin + "/")
		waitFor[bool](b, 30*time.Second, `window.client && window.client.state === "connected" && window.client.framesRendered >= 10`,
			`JSON.stringify({state: window.client?.state, failure: window.failure})`)
		waitFor[bool](b, 10*time.Second, `window.__wire.some((e) => e.dir === "close")`, `JSON.stringify(window.__wire)`)
		checkAnboxWire(t, eval[[]wireEvent](b, `window.__wire`), st.token, []string{"game"}, "VP8")

		// sendData reaches the named channel; disconnect() sends
		// stream::disconnect, which ends an ephemeral session.
		id := eval[string](b, `window.client.sessionId`)
		waitFor[bool](b, 10*time.Second, `window.client.sendData("game", "hello")`, `window.client.state`)
		natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
			if n := st.streamerStats(t, id).ChannelMessages["game"]; n < 1 {
				return fmt.Errorf("%d messages on game", n)
			}
			return nil
		})
		b.screenshot("browser-embedded")
		eval[chromedp.Void](b, `window.client.disconnect()`)
		rec := st.waitStatus(t, id, func(s *session.Session) bool { return s.Status.Ended() || s.Status == session.StatusTerminating })
		if rec.Reason != session.ReasonClientLeft {
			t.Fatalf("session ended with reason %q, want %q", rec.Reason, session.ReasonClientLeft)
		}
	})

	t.Run("other origin refused by default", func(t *testing.T) {
		browserTest(t)
		st := startStack(t, stackOptions{noAgent: true})
		origin, configure := serveEmbedPage(t)
		configure(st.baseURL, st.token)
		b := startBrowser(t)
		b.navigate(origin + "/")
		f := waitFor[map[string]string](b, 20*time.Second, `window.failure`, `window.client?.state`)
		if f["code"] != "session-failed" || !strings.Contains(f["hint"], "--allowed-origins") {
			t.Fatalf("failure %v", f)
		}
	})
}

// TestBrowserSDKHelpers checks the SDK's pure functions: mapping a point on
// a letterboxed video to the remote screen, key codes, mouse buttons.
func TestBrowserSDKHelpers(t *testing.T) {
	browserTest(t)
	st := startStack(t, stackOptions{noAgent: true})
	b := startBrowser(t)
	b.navigate(st.baseURL + "/")
	got := eval[map[string]any](b, `import("/sdk/streamstack.js").then((m) => {
		const hd = {width: 1280, height: 720};
		// 1600x720 box: the 16:9 picture is 1280 wide, pillarboxed by 160 px.
		const pillar = {left: 10, top: 20, width: 1600, height: 720};
		// 640x720 box: the picture is 640x360, letterboxed by 180 px.
		const letter = {left: 0, top: 0, width: 640, height: 720};
		return {
			pillarLeftBar: m.mapToRemote(10 + 100, 20 + 300, pillar, hd, hd),
			pillarOrigin: m.mapToRemote(10 + 160, 20, pillar, hd, hd),
			pillarCentre: m.mapToRemote(10 + 800, 20 + 360, pillar, hd, hd),
			pillarEnd: m.mapToRemote(10 + 160 + 1279.5, 20 + 719.5, pillar, hd, hd),
			letterTopBar: m.mapToRemote(320, 100, letter, hd, hd),
			letterCentre: m.mapToRemote(320, 360, letter, hd, hd),
			letterCorner: m.mapToRemote(639.9, 539.9, letter, hd, hd),
			// A video decoded at half size still maps to the full remote screen.
			halfDecoded: m.mapToRemote(320, 360, letter, {width: 640, height: 360}, hd),
			keys: [m.keyCode("KeyA"), m.keyCode("Digit0"), m.keyCode("Enter"), m.keyCode("Escape"), m.keyCode("ArrowLeft"), m.keyCode("F13")],
			buttons: [0, 1, 2, 3, 4, 5].map(m.mouseButton),
		};
	})`)
	want := map[string]string{
		"pillarLeftBar": `{"inside":false,"scale":1,"x":0,"y":300}`,
		"pillarOrigin":  `{"inside":true,"scale":1,"x":0,"y":0}`,
		"pillarCentre":  `{"inside":true,"scale":1,"x":640,"y":360}`,
		"pillarEnd":     `{"inside":true,"scale":1,"x":1279,"y":719}`,
		"letterTopBar":  `{"inside":false,"scale":2,"x":640,"y":0}`,
		"letterCentre":  `{"inside":true,"scale":2,"x":640,"y":360}`,
		"letterCorner":  `{"inside":true,"scale":2,"x":1279,"y":719}`,
		"halfDecoded":   `{"inside":true,"scale":2,"x":640,"y":360}`,
		"keys":          `[29,7,66,111,21,0]`,
		"buttons":       `[1,3,2,4,5,0]`,
	}
	for k, w := range want {
		g, _ := json.Marshal(got[k])
		if string(g) != w {
			t.Errorf("%s = %s, want %s", k, g, w)
		}
	}
}

// BenchmarkBrowserFirstFrame times page load to the first frame shown in
// chromium: the web client loading, creating a session, the streamer
// starting, signaling, ICE, DTLS and the first decoded 720p VP8 frame, as
// the page measures it (performance.now() at the first
// requestVideoFrameCallback). One load at a time; each session is ended,
// and its streamer gone, before the next load. It also reports when the
// session was created (create answered) and when ICE connected, from page
// load.
func BenchmarkBrowserFirstFrame(b *testing.B) {
	const loads = 25
	needChromium(b)
	st := startStack(b, stackOptions{agent: func(c *agent.Config) { c.UnitsPerCore, c.MaxSessions = 64, 16 }})
	br := startBrowser(b)
	page := st.clientURL(url.Values{"token": {st.token}, "autostart": {"1"}, "joinable": {"0"}, "codec": {"VP8"}})
	type timing struct{ Session, Connected, FirstFrame float64 }
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	load := func() timing {
		br.navigate(page)
		waitFor[bool](br, 30*time.Second, `window.streamstack && window.streamstack.firstFrameMs > 0`, pageState)
		tm := eval[timing](br, `(() => { const t = window.streamstack.client.timing;
			return {Session: t.session, Connected: t.connected, FirstFrame: t.firstFrame}; })()`)
		id := eval[string](br, `window.streamstack.sessionId`)
		if err := st.api.Delete(context.Background(), id); err != nil {
			b.Fatal(err)
		}
		st.waitEnded(b, id) // its streamer is gone before the next load
		return tm
	}
	load() // chromium's first page load compiles and caches what later ones reuse
	var first, created, connected benchmark.Durations
	for b.Loop() {
		for range loads {
			tm := load()
			first = append(first, ms(tm.FirstFrame))
			created = append(created, ms(tm.Session))
			connected = append(connected, ms(tm.Connected))
		}
	}
	reportPercentiles(b, first, "ms")
	b.ReportMetric(float64(created.Percentile(50).Microseconds())/1000, "p50-created-ms")
	b.ReportMetric(float64(connected.Percentile(50).Microseconds())/1000, "p50-connected-ms")
}

// waitEnded waits until a session's streamer is gone.
func (s *stack) waitEnded(tb testing.TB, id string) {
	tb.Helper()
	natstest.CheckFor(tb, 20*time.Second, 10*time.Millisecond, func() error {
		rec, _, err := s.Store.Get(context.Background(), id)
		if err != nil {
			return err
		}
		if rec.Status != session.StatusTerminated && rec.Status != session.StatusError {
			return fmt.Errorf("session %s is %s", id, rec.Status)
		}
		return nil
	})
}
