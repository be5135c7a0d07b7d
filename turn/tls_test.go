package turn_test

import (
	"crypto/tls"
	"crypto/x509"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	pturn "github.com/pion/turn/v5"
	"go.uber.org/goleak"

	"github.com/streamstack/streamstack/internal/certfile"
	"github.com/streamstack/streamstack/internal/pionlog"
	"github.com/streamstack/streamstack/turn"
)

// turns: a client that reaches the server only over TLS, checking its
// certificate, allocates a relay with a good credential and is refused
// with a bad one; the URLs name the TLS port with the certificate's host.
func TestServerOverTLS(t *testing.T) {
	t.Cleanup(func() { goleak.VerifyNone(t) })
	dir := t.TempDir()
	cf, kf, err := certfile.WriteSelfSigned(dir, "localhost", 1)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := certfile.New(cf, kf)
	if err != nil {
		t.Fatal(err)
	}
	srv := startWith(t, func(c *turn.Config) {
		c.TLSListen, c.TLSHost, c.Certificate = "127.0.0.1:0", "localhost", certs.GetCertificate
	})
	var turnsURL string
	for _, u := range srv.URLs() {
		if strings.HasPrefix(u, "turns:localhost:") {
			turnsURL = u
		}
	}
	if turnsURL == "" {
		t.Fatalf("no turns: URL in %v", srv.URLs())
	}
	port := strings.TrimSuffix(strings.TrimPrefix(turnsURL, "turns:localhost:"), "?transport=tcp")
	pemBytes, err := os.ReadFile(cf)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pemBytes)

	allocate := func(user, pass string) error {
		conn, err := tls.Dial("tcp", "127.0.0.1:"+port, &tls.Config{RootCAs: pool, ServerName: "localhost"})
		if err != nil {
			return err
		}
		defer conn.Close()
		c, err := pturn.NewClient(&pturn.ClientConfig{TURNServerAddr: "127.0.0.1:" + port, STUNServerAddr: "127.0.0.1:" + port,
			Username: user, Password: pass, Realm: "streamstack", Conn: pturn.NewSTUNConn(conn),
			RTO: 500 * time.Millisecond, LoggerFactory: pionlog.Factory{Log: slog.New(slog.DiscardHandler)}})
		if err != nil {
			return err
		}
		defer c.Close()
		if err := c.Listen(); err != nil {
			return err
		}
		relay, err := c.Allocate()
		if err != nil {
			return err
		}
		return relay.Close()
	}
	good := turn.NewCredential(secret, "sess1", time.Minute, time.Now())
	if err := allocate(good.Username, good.Password); err != nil {
		t.Fatalf("allocation over TLS: %v", err)
	}
	if err := allocate(good.Username, "wrong"); err == nil {
		t.Fatal("a bad credential allocated over TLS")
	}
	if st := srv.Stats(); st.AllocationsCreated != 1 {
		t.Errorf("stats %+v", st)
	}
}
