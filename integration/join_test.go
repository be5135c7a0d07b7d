package integration

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/session"
)

// Through the real gateway and a streamer process: a session URL opens
// one websocket (a reuse is refused with 409 and the viewer streams on);
// a join's connection that sends a garbage answer gets an error and leaves
// the joinable session and its viewer's stream running; a good join then
// takes the session over.
func TestReusedURLRefusedAndJoinGarbageLeavesSession(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{})
	ctx := testCtx(t)
	small := session.Screen{Width: 640, Height: 360, FPS: 30}
	info, viewer := st.open(t, ctx, client.CreateRequest{Screen: &small, Joinable: true, IdleTimeMin: 5}, client.Options{})
	if err := viewer.WaitFrames(ctx, 5); err != nil {
		t.Fatal(err)
	}

	_, resp, err := websocket.Dial(ctx, info.URL, nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusConflict {
		t.Fatalf("reused URL: %v %v, want 409", resp, err)
	}
	body, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(body), "join the session for a new one") {
		t.Errorf("reused URL refused with %s", body)
	}

	joined, err := st.api.Join(ctx, info.ID, small)
	if err != nil {
		t.Fatal(err)
	}
	ws := dialRaw(t, ctx, joined.URL)
	ws.send(ctx, `{"type":"settings","api_version":2,"data_channels":[],"enable_speaker":true,"enable_video":true}`)
	ws.next(ctx, "offer")
	ws.send(ctx, `{"type":"answer","sdp":"`+base64.StdEncoding.EncodeToString([]byte("v=0\r\nthis is no SDP\r\n"))+`"}`)
	if m := ws.next(ctx, "error"); !strings.Contains(fmt.Sprint(m["message"]), "answer") {
		t.Errorf("garbage answer: %v", m)
	}

	// The viewer streamed through it all and still does.
	n := viewer.Stats().FramesDecoded
	if err := viewer.WaitFrames(ctx, int(n)+30); err != nil {
		t.Fatalf("viewer after the join's garbage: %v", err)
	}
	rec, _, err := st.Store.Get(ctx, info.ID)
	if err != nil || rec.Status != session.StatusActive || !rec.ClientConnected {
		t.Fatalf("record %+v (%v), want active with its client", rec, err)
	}

	again, err := st.api.Join(ctx, info.ID, small)
	if err != nil {
		t.Fatal(err)
	}
	next := st.connect(t, ctx, again, client.Options{})
	if err := next.WaitFrames(ctx, 5); err != nil {
		t.Fatal(err)
	}
}
