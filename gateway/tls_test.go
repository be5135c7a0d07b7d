package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/streamstack/streamstack/internal/certfile"
)

// With a certificate the gateway serves HTTPS, hands out wss:// URLs,
// refuses plain HTTP, and serves a renewed certificate from the next
// connection without a restart.
func TestHTTPS(t *testing.T) {
	dir := t.TempDir()
	cf, kf, err := certfile.WriteSelfSigned(dir, "localhost", 1)
	if err != nil {
		t.Fatal(err)
	}
	g := newTestGW(t, func(c *Config) { c.TLSCertFile, c.TLSKeyFile = cf, kf })
	g.srv.certs.CheckInterval = 0
	pemBytes, err := os.ReadFile(cf)
	if err != nil {
		t.Fatal(err)
	}
	trust := func() *http.Client {
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pemBytes)
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
			TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "localhost"}}}
	}
	req, _ := http.NewRequest(http.MethodPost, g.base+"/1.0/sessions", strings.NewReader(`{"app":"test-pattern"}`))
	req.Header.Set("Authorization", "Bearer "+g.token)
	resp, err := trust().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var env struct {
		Metadata struct {
			URL string `json:"url"`
		} `json:"metadata"`
	}
	err = json.NewDecoder(resp.Body).Decode(&env)
	_ = resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated || !strings.HasPrefix(env.Metadata.URL, "wss://") {
		t.Fatalf("create over HTTPS: %d %v %q", resp.StatusCode, err, env.Metadata.URL)
	}
	plain := &http.Client{Timeout: 10 * time.Second}
	if resp, err := plain.Get(strings.Replace(g.base, "https://", "http://", 1) + "/healthz"); err == nil {
		_ = resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Error("plain HTTP served")
		}
	}

	// Renewal: a new pair in the same files is what the next handshake gets.
	if _, _, err := certfile.WriteSelfSigned(dir, "localhost", 2); err != nil {
		t.Fatal(err)
	}
	later := time.Now().Add(time.Minute)
	for _, p := range []string{cf, kf} {
		if err := os.Chtimes(p, later, later); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := tls.Dial("tcp", strings.TrimPrefix(g.base, "https://"), &tls.Config{InsecureSkipVerify: true}) // only the serial is read
	if err != nil {
		t.Fatal(err)
	}
	serial := conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64()
	_ = conn.Close()
	if serial != 2 {
		t.Fatalf("after renewal the gateway serves serial %d, want 2", serial)
	}

	bad := DefaultConfig()
	bad.TLSCertFile = cf
	if bad.Validate() == nil {
		t.Error("a certificate without a key accepted")
	}
}
