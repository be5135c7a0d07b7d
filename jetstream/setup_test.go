package jetstream_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/subjects"
)

func TestSetupIsIdempotent(t *testing.T) {
	env := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	js, err := njs.New(env.Conn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jetstream.Setup(ctx, js, jetstream.DefaultLimits()); err != nil {
		t.Fatalf("second Setup: %v", err)
	}
	for _, name := range []string{subjects.StreamRequests, subjects.StreamEvents, subjects.StreamSignal} {
		if _, err := js.Stream(ctx, name); err != nil {
			t.Errorf("stream %s: %v", name, err)
		}
	}
}

func TestInProcessServer(t *testing.T) {
	srv, err := jetstream.StartServer(jetstream.ServerConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	if srv.ClientURL() != "" {
		t.Fatalf("no listener expected, got %q", srv.ClientURL())
	}
	nc, err := srv.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

func TestClientUserCanOnlyDoClientThings(t *testing.T) {
	cfg := jetstream.DefaultServerConfig(t.TempDir())
	cfg.Listen = "127.0.0.1:-1"
	creds, err := jetstream.LoadOrCreateCredentials(filepath.Join(t.TempDir(), "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	creds.Apply(&cfg)
	srv, err := jetstream.StartServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	internal, err := srv.Connect("internal")
	if err != nil {
		t.Fatal(err)
	}
	defer internal.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	js, _ := njs.New(internal)
	if _, err := jetstream.Setup(ctx, js, jetstream.DefaultLimits()); err != nil {
		t.Fatal(err)
	}
	if _, err := nats.Connect(srv.ClientURL()); err == nil {
		t.Fatal("connected without credentials")
	}
	errs := make(chan error, 8)
	client, err := nats.Connect(srv.ClientURL(), nats.UserInfo(creds.Client.Name, creds.Client.Password),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	cjs, _ := njs.New(client)
	// Allowed: signal a streamer and read its own replies.
	to, _ := subjects.Signal("s1", subjects.ToStreamer, "c1")
	if _, err := cjs.Publish(ctx, to, []byte(`{"type":"discover"}`)); err != nil {
		t.Fatalf("signal: %v", err)
	}
	back, _ := subjects.Signal("s1", subjects.ToClient, "c1")
	if _, err := cjs.OrderedConsumer(ctx, subjects.StreamSignal, njs.OrderedConsumerConfig{FilterSubjects: []string{back}}); err != nil {
		t.Fatalf("signaling consumer: %v", err)
	}
	// Refused: queue a placement request, which only the API may.
	req, _ := subjects.Request("s1")
	if err := client.Publish(req, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "Permissions Violation") {
			t.Fatalf("unexpected error %v", err)
		}
	case <-ctx.Done():
		t.Fatal("publishing a placement request was not refused")
	}
	// Refused: read the sessions bucket.
	kvCtx, kvCancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer kvCancel()
	if _, err := cjs.KeyValue(kvCtx, subjects.BucketSessions); err == nil {
		t.Fatal("client user opened the sessions bucket")
	}
}
