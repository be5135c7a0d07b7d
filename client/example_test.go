package client_test

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/streamer/pattern"
	"github.com/streamstack/streamstack/streamer/protocol"
)

// A client that reaches a session's streamer straight through JetStream,
// watches 60 frames and clicks.
func ExampleNewPeer() {
	var js jetstream.JetStream // from jetstream.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	sig, err := client.NATSSignaler(ctx, js, "sessionid")
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
