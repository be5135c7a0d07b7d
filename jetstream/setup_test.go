package jetstream_test

import (
	"context"
	"testing"
	"time"

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
