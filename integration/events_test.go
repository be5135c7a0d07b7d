package integration

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
)

// The streamer's reports reach the API, and client connects and leaves are
// events of their own.
func TestStatsAndClientEvents(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{})
	ctx := testCtx(t)
	small := session.Screen{Width: 640, Height: 360, FPS: 30}
	info, peer := st.open(t, ctx, client.CreateRequest{Screen: &small, Joinable: true}, client.Options{})
	if err := peer.WaitFrames(ctx, 10); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		got, err := st.api.Get(ctx, info.ID)
		if err != nil {
			return err
		}
		if !got.ClientConnected {
			return fmt.Errorf("client_connected false")
		}
		var stats struct {
			FramesEncoded   uint64 `json:"frames_encoded"`
			SessionID       string `json:"session_id"`
			RTTMeasurements uint64 `json:"rtt_measurements"`
		}
		if len(got.Stats) == 0 {
			return fmt.Errorf("no stats yet")
		}
		if err := json.Unmarshal(got.Stats, &stats); err != nil {
			return err
		}
		// RTT needs a receiver report from the client: they come every second.
		if stats.FramesEncoded == 0 || stats.SessionID != info.ID || stats.RTTMeasurements == 0 {
			return fmt.Errorf("stats %s", got.Stats)
		}
		return nil
	})
	if err := peer.Disconnect(ctx); err != nil {
		t.Fatal(err)
	}
	st.waitStatus(t, info.ID, func(s *session.Session) bool { return !s.ClientConnected })
	if err := st.api.Delete(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	types := st.eventTypes(t, ctx, info.ID, session.EventTerminated)
	for _, want := range []string{session.EventClientConnected, session.EventClientDisconnected, session.EventStats} {
		if !slices.Contains(types, want) {
			t.Errorf("no %s in %v", want, types)
		}
	}
}
