package session_test

import (
	"context"
	"testing"

	"github.com/streamstack/streamstack/session"
)

// The change that sets encoder_fallback is the encoder_fallback event, and
// only that one: later changes of the record are updates again.
func TestEncoderFallbackEvent(t *testing.T) {
	st, env := newStore(t)
	ctx := context.Background()
	s := &session.Session{ID: session.NewID(), App: "test-pattern", Agent: "a1", Encoder: "nvenc"}
	if err := st.Create(ctx, s); err != nil {
		t.Fatal(err)
	}
	steps := []func(*session.Session) error{
		func(s *session.Session) error { s.Status = session.StatusActive; return nil },
		func(s *session.Session) error {
			s.Encoder = "cpu"
			s.EncoderFallback = &session.EncoderFallback{FromBackend: "h264_nvenc", ToBackend: "x264",
				FromPool: "nvenc", ToPool: "cpu", Codec: "H264", Reason: "GPU fell off the bus"}
			return nil
		},
		func(s *session.Session) error { s.StatusMessage = "still streaming"; return nil },
	}
	for _, fn := range steps {
		if _, err := st.Update(ctx, s.ID, fn); err != nil {
			t.Fatal(err)
		}
	}
	got := eventTypes(t, env, s.ID, 4)
	want := []string{session.EventCreated, session.EventActive, session.EventEncoderFallback, session.EventUpdated}
	for i := range want {
		if got[i] != session.CloudEventsPrefix+want[i] {
			t.Fatalf("events %v, want %v", got, want)
		}
	}
}
