package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/streamstack/streamstack/client"
)

// probeOptions configures the probe's peer as the SDK configures a
// browser's: the session's stun_servers, and relay-only when asked.
func probeOptions(f *probeFlags, info *client.SessionInfo) client.Options {
	o := client.Options{
		Log:              slog.New(slog.DiscardHandler),
		ICEServers:       info.ICEServers(),
		ICEFailedTimeout: f.iceFailedTimeout,
	}
	if f.relayOnly {
		o.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	return o
}

// connectError says what a failed ICE means for the person reading it.
func connectError(f *probeFlags, info *client.SessionInfo, err error) error {
	if !errors.Is(err, client.ErrFailed) {
		return err
	}
	var urls []string
	for _, s := range info.StunServers {
		urls = append(urls, s.URLs...)
	}
	servers := "none"
	if len(urls) > 0 {
		servers = strings.Join(urls, " ")
	}
	return fmt.Errorf("ICE failed: no candidate pair between this client and the streamer worked within %s (stun_servers: %s); "+
		"behind NATs or firewalls a session needs a TURN server both sides reach: %w", f.iceFailedTimeout, servers, err)
}

// probeResult is the probe's --json output.
type probeResult struct {
	Session        string   `json:"session"`
	APIAnswerMS    float64  `json:"api_answer_ms"`
	ConnectMS      float64  `json:"connect_ms"`
	FirstFrameMS   float64  `json:"first_frame_ms"`
	FramesDecoded  uint64   `json:"frames_decoded"`
	FPS            float64  `json:"fps"`
	BitrateKbps    float64  `json:"bitrate_kbps"`
	ICEPath        string   `json:"ice_path"`
	AudioDecoded   uint64   `json:"audio_packets_decoded"`
	AudioSound     uint64   `json:"audio_packets_with_sound"`
	StreamerErrors []string `json:"streamer_errors,omitempty"`
}

func writeProbeJSON(w io.Writer, id string, created, firstFrame time.Duration, st client.Stats, path string) error {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(probeResult{
		Session: id, APIAnswerMS: ms(created), ConnectMS: ms(st.ConnectTime), FirstFrameMS: ms(firstFrame),
		FramesDecoded: st.FramesDecoded, FPS: st.FPS, BitrateKbps: st.BitrateKbps, ICEPath: path,
		AudioDecoded: st.AudioDecoded, AudioSound: st.AudioSound, StreamerErrors: st.StreamerErrors,
	})
}
