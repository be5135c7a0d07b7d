package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/session"
)

type probeFlags struct {
	url, token, app, sessionID string
	share                      string
	width, height, fps         int
	duration                   time.Duration
	joinable, keep             bool
	relayOnly, json            bool
	iceFailedTimeout           time.Duration
}

func newProbeFlags(fs *flag.FlagSet) *probeFlags {
	f := &probeFlags{}
	fs.StringVar(&f.url, "url", "http://localhost:8080", "gateway URL; several, comma-separated, are one cluster's gateways: the session is created through the first that answers, and a connection that fails before it streams joins again through the next (client.Failover)")
	fs.StringVar(&f.token, "token", "", "API token")
	fs.StringVar(&f.app, "app", "test-pattern", "application to start")
	fs.StringVar(&f.sessionID, "session-id", "", "join this session instead of creating one")
	fs.StringVar(&f.share, "share", "", "join --session-id through a share link's token instead of with --token (docs/peers.md); give it as STREAMSTACK_SHARE: a command line is readable by every user of the host")
	fs.IntVar(&f.width, "width", 1280, "screen width")
	fs.IntVar(&f.height, "height", 720, "screen height")
	fs.IntVar(&f.fps, "fps", 30, "frames per second")
	fs.DurationVar(&f.duration, "duration", 5*time.Second, "how long to watch the stream")
	fs.BoolVar(&f.joinable, "joinable", false, "create a joinable session")
	fs.BoolVar(&f.keep, "keep", false, "leave the session running when done")
	fs.BoolVar(&f.relayOnly, "relay-only", false, "use relay candidates only (iceTransportPolicy relay): check the session's TURN server")
	fs.DurationVar(&f.iceFailedTimeout, "ice-failed-timeout", 15*time.Second, "how long ICE may try candidate pairs before the probe reports ICE failed")
	fs.BoolVar(&f.json, "json", false, "print the result as one JSON object")
	return f
}

// runProbe is a diagnostic client: it does what a user's client does and
// prints what arrived.
func runProbe(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("probe", flag.ContinueOnError)
	f := newProbeFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if f.share != "" {
		if f.sessionID == "" {
			return errors.New("--share needs --session-id: a share link joins its session")
		}
		f.token = f.share // join takes a link's token where it takes an API token
	}
	if f.token == "" {
		return errors.New("--token (or STREAMSTACK_TOKEN) is required")
	}
	var gws []*client.Gateway
	for u := range strings.SplitSeq(f.url, ",") {
		if u = strings.TrimSpace(u); u != "" {
			gws = append(gws, &client.Gateway{BaseURL: u, Token: f.token})
		}
	}
	if len(gws) == 0 {
		return errors.New("--url names no gateway")
	}
	api := gws[0]
	screen := session.Screen{Width: f.width, Height: f.height, FPS: f.fps}
	ctx, cancel := context.WithTimeout(ctx, f.duration+30*time.Second)
	defer cancel()

	start := time.Now()
	var info *client.SessionInfo
	var err error
	for i, gw := range gws {
		api = gw
		if f.sessionID != "" {
			info, err = api.Join(ctx, f.sessionID, screen)
		} else {
			info, err = api.Create(ctx, client.CreateRequest{App: f.app, Joinable: f.joinable, Screen: &screen})
		}
		// Only a gateway that could not be reached leaves the call to the
		// next: an answer, even a refusal, is the cluster's.
		if err == nil || !errors.Is(err, client.ErrGateway) || i == len(gws)-1 {
			break
		}
	}
	if err != nil {
		return err
	}
	created := time.Since(start)
	if f.sessionID == "" && !f.keep {
		defer func() {
			// Through the first gateway that can be reached: the one that
			// created it may be the one that died.
			for _, gw := range append([]*client.Gateway{api}, gws...) {
				if err := gw.Delete(context.WithoutCancel(ctx), info.ID); !errors.Is(err, client.ErrGateway) {
					return
				}
			}
		}()
	}
	peer, err := probeConnect(ctx, f, gws, info)
	if err != nil {
		return fmt.Errorf("session %s: %w", info.ID, connectError(f, info, err))
	}
	defer peer.Close()
	if err := peer.WaitFrames(ctx, 1); err != nil {
		return fmt.Errorf("session %s: no frame: %w", info.ID, err)
	}
	firstFrame := time.Since(start)
	watch, stop := context.WithTimeout(ctx, f.duration)
	<-watch.Done()
	stop()
	st := peer.Stats()
	if f.json {
		return writeProbeJSON(os.Stdout, info.ID, created, firstFrame, st, peer.Path())
	}

	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(w, "session\t%s\n", info.ID)
	fmt.Fprintf(w, "api answer\t%s\n", created.Round(time.Microsecond))
	fmt.Fprintf(w, "peer connected\t%s after connect\n", st.ConnectTime.Round(time.Microsecond))
	fmt.Fprintf(w, "ice path\t%s\n", peer.Path())
	fmt.Fprintf(w, "time to first frame\t%s from the API call\n", firstFrame.Round(time.Microsecond))
	fmt.Fprintf(w, "frames decoded\t%d (dropped %d, keyframes %d)\n", st.FramesDecoded, st.FramesDropped, st.Keyframes)
	fmt.Fprintf(w, "fps\t%.1f\n", st.FPS)
	fmt.Fprintf(w, "bitrate\t%.0f kbit/s\n", st.BitrateKbps)
	// Only the test pattern carries the strip; an application's pixels
	// decode to a nonsense time.
	if st.Latency > -time.Second && st.Latency < time.Minute {
		fmt.Fprintf(w, "latency (picture strip)\t%s capture to decode\n", st.Latency.Round(time.Microsecond))
	} else {
		fmt.Fprintf(w, "latency (picture strip)\tn/a: this picture carries no test-pattern strip\n")
	}
	fmt.Fprintf(w, "audio packets\t%d (%d decoded, %d with sound; last peak %.3f of full scale)\n",
		st.AudioPackets, st.AudioDecoded, st.AudioSound, st.AudioPeak)
	for _, e := range st.StreamerErrors {
		fmt.Fprintf(w, "streamer error\t%s\n", e)
	}
	return w.Flush()
}

// probeConnect connects to the session: through its URL alone with one
// gateway, so that a failure is reported as it happens; with several, a
// client.Failover joins again through the next on a failure, a bounded
// number of times (an ICE failure would fail through every gateway alike).
func probeConnect(ctx context.Context, f *probeFlags, gws []*client.Gateway, info *client.SessionInfo) (*client.Peer, error) {
	if len(gws) > 1 {
		b := client.DefaultBackoff()
		b.Attempts = 2 * len(gws)
		fo := &client.Failover{Gateways: gws, Options: probeOptions(f, info), SessionICEServers: true, Backoff: b,
			OnRetry: func(attempt int, err error) {
				fmt.Fprintf(os.Stderr, "attempt %d failed, joining through the next gateway: %v\n", attempt, err)
			}}
		peer, _, err := fo.Connect(ctx, info)
		return peer, err
	}
	sig, err := client.DialWebsocket(ctx, info.URL)
	if err != nil {
		return nil, err
	}
	peer, err := client.NewPeer(sig, probeOptions(f, info))
	if err != nil {
		_ = sig.Close()
		return nil, err
	}
	if err := peer.Connect(ctx); err != nil {
		_ = peer.Close()
		return nil, err
	}
	return peer, nil
}
