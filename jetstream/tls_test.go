package jetstream_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/streamstack/streamstack/internal/certfile"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/jetstream"
)

// With RequireTLSRemote, a client from another address must use TLS: a
// plain one is refused, with the right credentials too; one over TLS gets
// in, and so does a plain one on loopback.
func TestNATSRequiresTLSFromOtherHosts(t *testing.T) {
	ip := net.ParseIP(natstest.NonLoopbackIPv4(t))
	dir := t.TempDir()
	certFile, keyFile, err := certfile.WriteSelfSigned(dir, ip.String(), 1)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := certfile.New(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	// Two servers: one on the host's address, one on loopback, both asking
	// the same of their clients.
	start := func(listen string) *jetstream.Server {
		cfg := jetstream.DefaultServerConfig(t.TempDir())
		cfg.Listen = listen
		cfg.TLS = &tls.Config{GetCertificate: certs.GetCertificate, MinVersion: tls.VersionTLS12}
		cfg.RequireTLSRemote = true
		jetstream.NewCredentials().Apply(&cfg)
		cfg.Internal.Password = "pw"
		srv, err := jetstream.StartServer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Shutdown)
		srv.SetTokenCheck(func(context.Context, string) (string, time.Time, error) { return "A", time.Time{}, nil })
		return srv
	}
	remote := start(net.JoinHostPort(ip.String(), "-1"))
	loop := start("127.0.0.1:-1")
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	internal := nats.UserInfo("streamstack", "pw")

	if nc, err := nats.Connect(remote.ClientURL(), internal, nats.NoReconnect()); err == nil {
		nc.Close()
		t.Fatal("a plain client from another address got in")
	}
	if nc, err := nats.Connect(remote.ClientURL(), nats.Token("tok"), nats.NoReconnect()); err == nil {
		nc.Close()
		t.Fatal("a plain token client from another address got in")
	}
	nc, err := nats.Connect(remote.TLSURL(), internal, nats.Secure(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatalf("over TLS: %v", err)
	}
	if _, err := nc.TLSConnectionState(); err != nil {
		t.Fatalf("the connection is not TLS: %v", err)
	}
	nc.Close()
	nc, err = nats.Connect(loop.ClientURL(), internal)
	if err != nil {
		t.Fatalf("plain on loopback: %v", err)
	}
	nc.Close()
}
