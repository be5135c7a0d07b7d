package integration

import (
	"fmt"
	"net/url"
	"testing"
	"time"

	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
)

// holdFirstOffer keeps the streamer's offer on the page's first websocket
// from the SDK and says so in window.__held: the page is then mid-signaling
// (discover and settings answered, no answer sent) for as long as the test
// wants.
const holdFirstOffer = `(() => {
	const Orig = window.WebSocket;
	let n = 0;
	window.__held = false;
	window.WebSocket = class extends Orig {
		constructor(...a) { super(...a); this.__first = n++ === 0; }
		set onmessage(fn) {
			super.onmessage = (ev) => {
				if (this.__first && String(ev.data).includes('"type":"offer"')) { window.__held = true; return; }
				fn(ev);
			};
		}
		get onmessage() { return super.onmessage; }
	};
})();`

// The web client served by one of two `streamstack gateway` processes,
// told of the other by its operator (--web-gateways): kill -9 of its own gateway while its
// signaling waits on the streamer's offer; the SDK joins through the other
// gateway and plays, for an ephemeral and a joinable session.
func TestBrowserGatewayKilledMidSignaling(t *testing.T) {
	for _, joinable := range []string{"0", "1"} {
		t.Run("joinable="+joinable, func(t *testing.T) {
			browserTest(t)
			st := startStack(t, stackOptions{})
			ctx := testCtx(t)
			addrA, addrB := natstest.FreeAddr(t), natstest.FreeAddr(t)
			ready := `msg="gateway ready" url=(\S+)`
			env := []string{"STREAMSTACK_LOG_LEVEL=info"}
			a := startProc(t, ready, env, "gateway", "--nats-url", st.NATSURL, "--http-addr", addrA, "--web-gateways", "http://"+addrB)
			// B answers the page that A served.
			b := startProc(t, ready, env, "gateway", "--nats-url", st.NATSURL, "--http-addr", addrB,
				"--allowed-origins", "http://"+addrA)
			a.wait(t, ctx)
			b.wait(t, ctx)

			br := startBrowser(t)
			br.addInitScript(holdFirstOffer)
			q := url.Values{"token": {st.token}, "autostart": {"1"}, "joinable": {joinable}, "width": {"640"}, "height": {"360"},
				"debug": {"1"}}
			br.navigate("http://" + addrA + "/?" + q.Encode())
			waitFor[bool](br, 30*time.Second, `window.__held === true`, pageState)
			id := eval[string](br, `window.streamstack.sessionId`)
			a.kill(t)
			killed := time.Now()

			waitFor[bool](br, 30*time.Second, `window.streamstack.state === "connected" && window.streamstack.frames >= 10`,
				`JSON.stringify({gateway: window.streamstack.client?.gateway, page: `+pageState+`})`)
			resumed := time.Since(killed)
			if got := eval[string](br, `window.streamstack.client.gateway`); got != "http://"+addrB {
				t.Fatalf("streaming through %s, want the surviving gateway http://%s", got, addrB)
			}
			if again := eval[string](br, `window.streamstack.sessionId`); again != id {
				t.Fatalf("streaming session %s, want %s", again, id)
			}
			rec := st.waitStatus(t, id, func(s *session.Session) bool { return s.Status == session.StatusActive && s.ClientConnected })
			t.Logf("gateway killed mid-signaling: the page streams through %s %s after the kill (session %s)",
				addrB, resumed.Round(time.Millisecond), rec.Status)
			frames := eval[int](br, `window.streamstack.frames`)
			waitFor[bool](br, 30*time.Second, fmt.Sprintf(`window.streamstack.frames >= %d`, frames+30), pageState)
		})
	}
}
