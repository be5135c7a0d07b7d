package benchmark

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/subjects"
)

// RelayRoundTrip measures client → gateway → NATS → streamer side and back:
// it opens a session's websocket, echoes every frame that reaches the
// streamer subjects back to the client subject (standing in for the
// streamer's signaling reply, which it is on the wire), and times n round
// trips. The session is created in a region no agent serves, so nothing
// else answers.
func RelayRoundTrip(ctx context.Context, api *client.Gateway, js jetstream.JetStream, n int) (Durations, error) {
	info, err := api.Create(ctx, client.CreateRequest{App: "test-pattern", Region: "bench-no-agent"})
	if err != nil {
		return nil, err
	}
	defer func() { _ = api.Delete(context.WithoutCancel(ctx), info.ID) }()

	filter, err := subjects.SignalToStreamerAll(info.ID)
	if err != nil {
		return nil, err
	}
	cons, err := js.OrderedConsumer(ctx, subjects.StreamSignal, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{filter}, DeliverPolicy: jetstream.DeliverNewPolicy,
	})
	if err != nil {
		return nil, fmt.Errorf("benchmark: echo consumer: %w", err)
	}
	echo, err := cons.Consume(func(m jetstream.Msg) {
		id, _, conn, err := subjects.ParseSignal(m.Subject())
		if err != nil {
			return
		}
		back, _ := subjects.Signal(id, subjects.ToClient, conn)
		_, _ = js.Publish(ctx, back, m.Data())
	})
	if err != nil {
		return nil, fmt.Errorf("benchmark: echo: %w", err)
	}
	defer echo.Stop()

	sig, err := client.DialWebsocket(ctx, info.URL)
	if err != nil {
		return nil, err
	}
	defer sig.Close()
	out := make(Durations, 0, n)
	for i := range n {
		frame := fmt.Appendf(nil, `{"type":"bench:ping","seq":%d}`, i)
		start := time.Now()
		if err := sig.Send(ctx, frame); err != nil {
			return out, err
		}
		got, err := sig.Recv(ctx)
		if err != nil {
			return out, err
		}
		if string(got) != string(frame) {
			return out, fmt.Errorf("benchmark: echo %q, sent %q", got, frame)
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}
