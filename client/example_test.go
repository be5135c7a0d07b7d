package client_test

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/streamer/pattern"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// A client that reaches a session's streamer over NATS alone, watches 60
// frames and clicks. nc is connected with an API token and its inbox
// prefix; sig is the "signaling" of the session service's create answer.
func ExampleNewPeer() {
	var nc *nats.Conn // nats.Connect(url, nats.Token(token), nats.CustomInboxPrefix("_INBOX_"+tokenID))
	var answer client.NATSSignaling
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	sig, err := client.NATSSignaler(nc, answer)
	if err != nil {
		fmt.Println(err)
		return
	}
	peer, err := client.NewPeer(sig, client.Options{
		OnFrame: func(img *yuv.Image, st pattern.Stamp) {
			_ = st.Frame // the streamer's frame counter, from the picture itself
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer peer.Close()
	if err := peer.Connect(ctx); err != nil {
		fmt.Println(err)
		return
	}
	if err := peer.WaitFrames(ctx, 60); err != nil {
		fmt.Println(err)
		return
	}
	_ = peer.SendInput(protocol.InputMouseButton, map[string]any{"button": 0, "pressed": true})
	st := peer.Stats()
	fmt.Println("first frame after", st.FirstFrame, "latency", st.Latency)
	_ = peer.Disconnect(ctx)
}
