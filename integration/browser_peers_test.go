package integration

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/subjects"
)

// The web client and the JS SDK in a session with several peers
// (docs/peers.md): share links, roles and control handover.

// TestBrowserShareLinkPage opens the page as a share link opens it: it
// joins that session with the link's token at once, without an API token,
// and takes the token out of the address bar. The peers bar follows
// session::peers frames (fed to the SDK here: no streamer), and its
// buttons send session::control frames on the signaling websocket.
func TestBrowserShareLinkPage(t *testing.T) {
	browserTest(t)
	st := startStack(t, stackOptions{noAgent: true})
	b := startBrowser(t)
	b.addInitScript(wireRecorder)
	const share = "sharetoken-for-the-test"
	b.navigate(st.baseURL + "/?session=sess-nosuch#share=" + share)

	// The join goes with the share token, and nothing with an API token.
	joins := `window.__wire.filter((e) => e.dir === "fetch" && e.data.includes("/1.0/sessions/sess-nosuch/join"))`
	waitFor[bool](b, 20*time.Second, joins+`.length > 0 && window.streamstack.state === "closed"`, `JSON.stringify(window.__wire)`)
	var call struct{ Authorization string }
	if err := json.Unmarshal([]byte(eval[string](b, joins+`[0].data`)), &call); err != nil {
		t.Fatal(err)
	}
	if call.Authorization != "Bearer "+share {
		t.Fatalf("join sent Authorization %q, want the share token as Bearer", call.Authorization)
	}
	if n := eval[int](b, `window.__wire.filter((e) => e.dir === "fetch" && e.data.includes("Macaroon")).length`); n != 0 {
		t.Fatalf("%d calls with an API token from a share link's page", n)
	}
	if u := eval[string](b, `location.href`); strings.Contains(u, share) || strings.Contains(u, "#") {
		t.Fatalf("the address bar still shows the share token: %s", u)
	}
	// A refused link is an error with a way to join again, not the token
	// launcher.
	if !eval[bool](b, `!document.getElementById("error").hidden && document.getElementById("launcher").hidden &&
		document.getElementById("error-retry").textContent === "Join again"`) {
		t.Fatalf("page after a refused share link: %s", eval[string](b, pageState))
	}

	// The bar of a viewer, then of an owner who controls, as the SDK reads
	// session::peers. Frames the page sends are recorded instead of sent.
	frame := func(v any) string {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	eval[bool](b, `(() => {
		const c = window.streamstack.client;
		window.__sent = [];
		c._ws = {readyState: WebSocket.OPEN, send: (d) => window.__sent.push(JSON.parse(d)), close() {}};
		return true;
	})()`)
	peers := []map[string]any{
		{"id": "o-owner", "role": "controller", "owner": true, "joined_at": "2026-12-07T22:00:00Z", "codec": "VP8"},
		{"id": "v-viewer1", "role": "viewer", "joined_at": "2026-12-07T22:01:00Z", "codec": "VP8"},
		{"id": "v-viewer2", "role": "viewer", "joined_at": "2026-12-07T22:02:00Z", "codec": "VP8"},
	}
	eval[bool](b, `window.streamstack.client._onPeers(`+frame(map[string]any{
		"type": "session::peers", "you": "v-viewer1", "role": "viewer", "owner": false, "peers": peers, "requests": []string{},
	})+`), true`)
	bar := func() map[string]any {
		return eval[map[string]any](b, `(() => {
			const vis = (id) => !document.getElementById(id).hidden;
			return {bar: vis("peers-bar"), role: document.getElementById("role-label").textContent,
				watchers: document.getElementById("watchers").textContent, request: vis("btn-request"),
				requestDisabled: document.getElementById("btn-request").disabled, take: vis("btn-take"), share: vis("btn-share"),
				gives: [...document.querySelectorAll("#grants button")].map((b) => b.dataset.peer).join(","),
				apiRole: window.streamstack.role, apiOwner: window.streamstack.owner, apiPeers: window.streamstack.peers.length};
		})()`)
	}
	want := func(got map[string]any, w string) {
		t.Helper()
		if g, _ := json.Marshal(got); string(g) != w {
			t.Fatalf("peers bar %s, want %s", g, w)
		}
	}
	want(bar(), `{"apiOwner":false,"apiPeers":3,"apiRole":"viewer","bar":true,"gives":"","request":true,"requestDisabled":false,`+
		`"role":"viewer","share":false,"take":false,"watchers":"3 people watching"}`)
	b.do(10*time.Second, chromedp.Click(chromedp.ID("btn-request")))
	if got := eval[string](b, `JSON.stringify(window.__sent)`); got != `[{"type":"session::control","action":"request"}]` {
		t.Fatalf("request control sent %s", got)
	}
	eval[bool](b, `window.streamstack.client._onPeers(`+frame(map[string]any{
		"type": "session::peers", "you": "v-viewer1", "role": "viewer", "peers": peers, "requests": []string{"v-viewer1"},
	})+`), true`)
	want(bar(), `{"apiOwner":false,"apiPeers":3,"apiRole":"viewer","bar":true,"gives":"","request":true,"requestDisabled":true,`+
		`"role":"viewer","share":false,"take":false,"watchers":"3 people watching"}`)

	// An owner who controls sees the requests as "Give control" buttons; a
	// share link's page never offers Share (it has no API token).
	eval[bool](b, `window.__sent.length = 0, window.streamstack.client._onPeers(`+frame(map[string]any{
		"type": "session::peers", "you": "o-owner", "role": "controller", "owner": true, "peers": peers,
		"requests": []string{"v-viewer2", "v-viewer1"},
	})+`), true`)
	want(bar(), `{"apiOwner":true,"apiPeers":3,"apiRole":"controller","bar":true,"gives":"v-viewer2,v-viewer1","request":false,`+
		`"requestDisabled":false,"role":"controller · owner","share":false,"take":false,"watchers":"3 people watching"}`)
	b.do(10*time.Second, chromedp.Click(`#grants button[data-peer="v-viewer1"]`))
	// The owner, now a viewer, may take control back.
	eval[bool](b, `window.streamstack.client._onPeers(`+frame(map[string]any{
		"type": "session::peers", "you": "o-owner", "role": "viewer", "owner": true, "peers": peers, "requests": []string{},
	})+`), true`)
	b.do(10*time.Second, chromedp.Click(chromedp.ID("btn-take")))
	if got := eval[string](b, `JSON.stringify(window.__sent)`); got !=
		`[{"type":"session::control","action":"grant","peer":"v-viewer1"},{"type":"session::control","action":"take"}]` {
		t.Fatalf("owner sent %s", got)
	}
	// A refused action while streaming is a notice; the stream goes on.
	eval[bool](b, `(() => { const c = window.streamstack.client; c.state = "connected";
		c._emit("error", {code: "streamer-error", message: "streamer: only an owner may take control"}); return true; })()`)
	if !eval[bool](b, `!document.getElementById("notice").hidden &&
		document.getElementById("notice").textContent === "Streamer: only an owner may take control."`) {
		t.Fatalf("refused action: %s", eval[string](b, `document.getElementById("notice").textContent`))
	}
}

// TestBrowserShareQRCode checks the share dialog's QR code encoder
// (web/static/qr.js) against another encoder's symbols, module for module.
func TestBrowserShareQRCode(t *testing.T) {
	browserTest(t)
	st := startStack(t, stackOptions{noAgent: true})
	b := startBrowser(t)
	b.navigate(st.baseURL + "/")
	files, err := filepath.Glob(filepath.Join("testdata", "qr", "*.txt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no QR codes under testdata/qr: %v", err)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// Two comment lines (the second "# version V mask M"), the text,
		// then the rows, # dark.
		lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
		var version, mask int
		if _, err := fmt.Sscanf(lines[1], "# version %d mask %d", &version, &mask); err != nil || len(lines) < 4 {
			t.Fatalf("%s: %v", f, err)
		}
		text, want := lines[2], strings.Join(lines[3:], "\n")
		got := eval[map[string]any](b, `import("/qr.js").then((m) => { const q = m.qrMatrix(`+jsonString(text)+`);
			return {version: q.version, mask: q.mask, rows: q.dark.map((r) => r.map((d) => d ? "#" : ".").join("")).join("\n")}; })`)
		if got["version"] != float64(version) || got["mask"] != float64(mask) {
			t.Errorf("%s: version %v mask %v, want %d and %d", f, got["version"], got["mask"], version, mask)
		}
		if got["rows"] != want {
			t.Errorf("%s: modules differ:\n%s\nwant\n%s", f, got["rows"], want)
		}
	}
	// The dialog draws one: an <svg> with the quiet zone around the symbol.
	if n := eval[int](b, `import("/qr.js").then((m) => m.qrSVG("https://a/#b").viewBox.baseVal.width)`); n != 21+8 {
		t.Errorf("svg of a version 1 code is %d modules wide, want 29", n)
	}
}

// peersState describes a page of a session with viewers for failure
// messages: its state, role, the peers it knows, and the session frames
// on its websockets (wireRecorder).
const peersState = `JSON.stringify({state: window.streamstack?.state, frames: window.streamstack?.frames, error: window.streamstack?.error,
	role: window.streamstack?.role, owner: window.streamstack?.owner, peers: window.streamstack?.peers, requests: window.streamstack?.requests,
	notice: document.getElementById("notice")?.textContent,
	wire: (window.__wire || []).filter((e) => e.data.includes("session::") || e.data.includes('"error"') || e.dir === "close").slice(-12)})`

// peerStats is what this test reads of a streamer's stats (decoded here,
// not as streamer.Stats, so that the file builds without the fields).
type peerStats struct {
	Inputs       map[string]uint64 `json:"inputs"`
	InputIgnored uint64            `json:"input_ignored"`
	Peers        int               `json:"peers"`
	Controller   string            `json:"controller"`
}

func (s *stack) peerStats(t *testing.T, id string) peerStats {
	t.Helper()
	subj, _ := subjects.StreamerStats(id)
	msg, err := s.Conn.Request(subj, nil, 5*time.Second)
	if err != nil {
		t.Fatalf("stats of %s: %v", id, err)
	}
	var st peerStats
	if err := json.Unmarshal(msg.Data, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestBrowserViewerAndHandover: the owner's page creates a session with
// viewers and makes a viewer link in its share dialog; a second browser
// (its own profile) opens the link. Both show frames; the viewer's clicks
// reach no app (counted as ignored), and after the viewer asks for control
// and the owner gives it, they do.
func TestBrowserViewerAndHandover(t *testing.T) {
	browserTest(t)
	st := startStack(t, stackOptions{})
	owner := startBrowser(t)
	owner.addInitScript(wireRecorder)
	id := st.playInBrowser(t, owner, url.Values{"autostart": {"1"}, "joinable": {"1"}, "viewers": {"1"}}, 30)
	waitFor[bool](owner, 20*time.Second, `window.streamstack.role === "controller" && window.streamstack.owner &&
		!document.getElementById("btn-share").hidden`, peersState)

	// A link for one viewer, made in the owner's share dialog.
	owner.do(10*time.Second, chromedp.Click(chromedp.ID("btn-share")))
	owner.do(10*time.Second, chromedp.SetValue(chromedp.ID("share-uses"), "1"), chromedp.Click(chromedp.ID("share-create")))
	link := waitFor[string](owner, 20*time.Second, `!document.getElementById("share-result").hidden && document.getElementById("share-url").value`,
		`document.getElementById("share-error").textContent`)
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("session") != id || !strings.HasPrefix(u.Fragment, "share=") {
		t.Fatalf("share link %q (%v) for session %s", link, err, id)
	}
	if n := eval[int](owner, `document.querySelectorAll("#share-qr svg").length`); n != 1 {
		t.Errorf("the share dialog shows %d QR codes", n)
	}
	owner.screenshot("browser-peers-share")
	owner.do(10*time.Second, chromedp.Click(chromedp.ID("share-close")))

	viewer := startBrowser(t)
	viewer.addInitScript(wireRecorder)
	viewer.navigate(st.baseURL + "/?" + u.RawQuery + "#" + u.Fragment)
	waitFor[bool](viewer, 30*time.Second, `window.streamstack.frames >= 30 && window.streamstack.role === "viewer" && !window.streamstack.owner`, peersState)
	waitFor[bool](owner, 20*time.Second, `window.streamstack.peers.length === 2 &&
		document.getElementById("watchers").textContent === "2 people watching"`, peersState)
	ownerFrames := eval[int](owner, `window.streamstack.frames`)
	// The figure: a viewer's join (connect() called) to its first
	// frame shown, while another peer streams.
	t.Logf("first frame after connect: viewer through a share link %.0f ms, the owner who created the session %.0f ms",
		eval[float64](viewer, `window.streamstack.client.firstFrame.sinceConnectMs`),
		eval[float64](owner, `window.streamstack.client.firstFrame.sinceConnectMs`))

	// The viewer's clicks are ignored, and said to be.
	click := func(b *browser) {
		x, y := b.elementCenter("#video")
		b.do(10*time.Second, chromedp.MouseClickXY(x, y))
	}
	before := st.peerStats(t, id)
	click(viewer)
	waitFor[bool](viewer, 10*time.Second, `!document.getElementById("notice").hidden &&
		document.getElementById("notice").textContent.startsWith("You are watching")`, `document.getElementById("notice").textContent`)
	var ignored peerStats
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		ignored = st.peerStats(t, id)
		if ignored.InputIgnored < before.InputIgnored+2 {
			return fmt.Errorf("%d inputs ignored, want %d", ignored.InputIgnored, before.InputIgnored+2)
		}
		return nil
	})
	if n := ignored.Inputs["input::mouse-button"]; n != before.Inputs["input::mouse-button"] {
		t.Fatalf("a viewer's click reached the app: mouse-button %d, was %d", n, before.Inputs["input::mouse-button"])
	}

	// What a viewer may not do is refused with the streamer's reason, as a
	// notice; the stream plays on.
	eval[bool](viewer, `window.streamstack.client.takeControl()`)
	waitFor[bool](viewer, 10*time.Second, `document.getElementById("notice").textContent.includes("only an owner may take control") &&
		window.streamstack.state === "connected" && document.getElementById("error").hidden`, peersState)

	// Handover: the viewer asks, the owner gives.
	viewer.do(10*time.Second, chromedp.Click(chromedp.ID("btn-request")))
	owner.do(20*time.Second, chromedp.Click(`#grants button.give`))
	waitFor[bool](viewer, 20*time.Second, `window.streamstack.role === "controller"`,
		`JSON.stringify({viewer: `+peersState+`, owner: `+eval[string](owner, peersState)+`})`)
	waitFor[bool](owner, 20*time.Second, `window.streamstack.role === "viewer" && window.streamstack.owner &&
		!document.getElementById("btn-take").hidden`, peersState)
	click(viewer)
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		s := st.peerStats(t, id)
		if n := s.Inputs["input::mouse-button"]; n < before.Inputs["input::mouse-button"]+2 {
			return fmt.Errorf("mouse-button %d after the handover (inputs %v, %d ignored)", n, s.Inputs, s.InputIgnored)
		}
		return nil
	})
	// Both pages still play.
	waitFor[bool](owner, 20*time.Second, fmt.Sprintf(`window.streamstack.frames >= %d`, ownerFrames+30), peersState)
	viewerFrames := eval[int](viewer, `window.streamstack.frames`)
	waitFor[bool](viewer, 20*time.Second, fmt.Sprintf(`window.streamstack.frames >= %d`, viewerFrames+30), peersState)
	owner.screenshot("browser-peers-owner")
	viewer.screenshot("browser-peers-viewer")

	// The owner takes control back; the viewer leaves, and the owner
	// plays on alone.
	owner.do(10*time.Second, chromedp.Click(chromedp.ID("btn-take")))
	waitFor[bool](owner, 20*time.Second, `window.streamstack.role === "controller"`, peersState)
	waitFor[bool](viewer, 20*time.Second, `window.streamstack.role === "viewer"`, peersState)
	viewer.do(10*time.Second, chromedp.Click(chromedp.ID("btn-leave")))
	waitFor[bool](owner, 20*time.Second, `window.streamstack.peers.length === 1 &&
		document.getElementById("watchers").textContent === "1 person watching"`, peersState)
	ownerFrames = eval[int](owner, `window.streamstack.frames`)
	waitFor[bool](owner, 20*time.Second, fmt.Sprintf(`window.streamstack.state === "connected" && window.streamstack.frames >= %d`, ownerFrames+30), peersState)

	// The owner revokes the link in the share dialog; a join through it is
	// refused with that reason.
	owner.do(10*time.Second, chromedp.Click(chromedp.ID("btn-share")))
	owner.do(20*time.Second, chromedp.Click(`#share-list button[data-share]`))
	waitFor[bool](owner, 20*time.Second, `[...document.querySelectorAll("#share-list li")].some((li) => li.textContent.includes("(revoked)"))`,
		`document.getElementById("share-list").textContent + " " + document.getElementById("share-error").textContent`)
	share := strings.TrimPrefix(u.Fragment, "share=")
	req, err := http.NewRequest(http.MethodPost, st.baseURL+"/1.0/sessions/"+id+"/join", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+share)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "share link revoked") {
		t.Fatalf("join through a revoked link: %d %s", resp.StatusCode, body)
	}
}

// TestBrowserShareViewerReconnects: a viewer that joined through a link
// with two uses loses its connection and joins again through the same
// link (no API token, the link's second use); losing it once more, the
// link is used up and the page says so. The owner, who made the link with
// the SDK's createShare and reads its uses with listShares, plays on.
func TestBrowserShareViewerReconnects(t *testing.T) {
	browserTest(t)
	st := startStack(t, stackOptions{})
	owner := startBrowser(t)
	st.playInBrowser(t, owner, url.Values{"autostart": {"1"}, "joinable": {"1"}, "viewers": {"1"}}, 10)
	link := eval[string](owner, `window.streamstack.client.createShare({role: "viewer", maxUses: 2}).then((l) => l.url)`)
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}

	viewer := startBrowser(t)
	viewer.addInitScript(wireRecorder)
	viewer.navigate(st.baseURL + "/?" + u.RawQuery + "#" + u.Fragment)
	waitFor[bool](viewer, 30*time.Second, `window.streamstack.frames >= 10 && window.streamstack.role === "viewer"`, peersState)
	eval[bool](viewer, `window.__reconnects = 0, window.streamstack.client.on("reconnecting", () => window.__reconnects++), true`)

	// Closing the control channel is a lost connection to the SDK.
	eval[bool](viewer, `window.streamstack.client._control.close(), true`)
	waitFor[bool](viewer, 30*time.Second, `window.__reconnects >= 1 && window.streamstack.state === "connected" &&
		window.streamstack.role === "viewer"`, peersState)
	frames := eval[int](viewer, `window.streamstack.client.framesRendered`)
	waitFor[bool](viewer, 30*time.Second, fmt.Sprintf(`window.streamstack.client.framesRendered >= %d`, frames+10), peersState)
	uses := eval[[]map[string]any](owner, `window.streamstack.client.listShares()`)
	if len(uses) != 1 || uses[0]["uses"] != float64(2) || uses[0]["token"] != nil {
		t.Fatalf("links after the reconnect: %v", uses)
	}

	// Once more: the link is used up.
	eval[bool](viewer, `window.streamstack.client._control.close(), true`)
	got := waitFor[string](viewer, 60*time.Second, `!document.getElementById("error").hidden && window.streamstack.error?.message`, peersState)
	if !strings.Contains(got, "share link used up") || eval[string](viewer, `window.streamstack.error.code`) != "forbidden" {
		t.Fatalf("viewer's error after the link's last use: %q", got)
	}
	// Every call of the viewer's page went with the link's token.
	if bad := eval[[]string](viewer, `window.__wire.filter((e) => e.dir === "fetch" && !JSON.parse(e.data).authorization.startsWith("Bearer "))
		.map((e) => e.data)`); len(bad) != 0 {
		t.Fatalf("calls without the share token: %v", bad)
	}
	frames = eval[int](owner, `window.streamstack.frames`)
	waitFor[bool](owner, 20*time.Second, fmt.Sprintf(`window.streamstack.state === "connected" && window.streamstack.frames >= %d`, frames+30), peersState)
}
