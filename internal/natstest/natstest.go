// Package natstest starts an embedded NATS server with JetStream in a temp
// dir for tests, the way nats-server's own tests do, and waits on state
// without sleeps. Every package's tests use it.
package natstest

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/jetstream"
)

// Env is a running server, a client connection and the created resources.
type Env struct {
	Server *jetstream.Server
	Conn   *nats.Conn
	*jetstream.Resources
}

// Start runs a server listening on a free loopback port (so child processes
// can connect too), creates every stream and bucket, and registers cleanup.
func Start(t testing.TB) *Env {
	t.Helper()
	cfg := jetstream.DefaultServerConfig(t.TempDir())
	cfg.Listen = "127.0.0.1:-1"
	srv, err := jetstream.StartServer(cfg)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	t.Cleanup(srv.Shutdown)
	nc := Connect(t, srv)
	js, err := njs.New(nc)
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := jetstream.Setup(ctx, js, jetstream.DefaultLimits())
	if err != nil {
		t.Fatalf("natstest: %v", err)
	}
	return &Env{Server: srv, Conn: nc, Resources: res}
}

// Connect opens another client connection closed at cleanup.
func Connect(t testing.TB, srv *jetstream.Server) *nats.Conn {
	t.Helper()
	nc, err := srv.Connect(t.Name())
	if err != nil {
		t.Fatalf("natstest: connect: %v", err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// CheckFor polls fn every interval until it returns nil or total passes, then
// fails the test with fn's last error. It waits on state, never on time alone.
func CheckFor(t testing.TB, total, every time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(total)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("natstest: condition not met after %s: %v", total, err)
		}
		time.Sleep(every)
	}
}

// FreeAddr is a loopback address with a port nobody listens on now: for a
// server a test starts later, or one that must not answer.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
