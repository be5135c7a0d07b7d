package integration

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/streamstack/streamstack/gateway"
	"github.com/streamstack/streamstack/internal/certfile"
)

// Chromium streams from a gateway that serves HTTPS and wss itself: the
// page, the API and the signaling websocket all over TLS. Chromium trusts
// exactly this certificate (by its public key), nothing else.
func TestBrowserOverHTTPS(t *testing.T) {
	browserTest(t)
	certFile, keyFile, err := certfile.WriteSelfSigned(t.TempDir(), "127.0.0.1", 1)
	if err != nil {
		t.Fatal(err)
	}
	st := startStack(t, stackOptions{gateway: func(c *gateway.Config) { c.TLSCertFile, c.TLSKeyFile = certFile, keyFile }})
	if !strings.HasPrefix(st.baseURL, "https://") {
		t.Fatalf("the gateway serves %s", st.baseURL)
	}
	b := startBrowser(t, chromedp.Flag("ignore-certificate-errors-spki-list", spkiHash(t, certFile)))
	st.playInBrowser(t, b, url.Values{"autostart": {"1"}, "joinable": {"0"}}, 30)
	if got := eval[string](b, `location.protocol`); got != "https:" {
		t.Fatalf("the page is on %s", got)
	}
}

// spkiHash is base64(SHA-256(SubjectPublicKeyInfo)) of a PEM certificate,
// the form chromium's --ignore-certificate-errors-spki-list takes.
func spkiHash(t *testing.T, certFile string) string {
	t.Helper()
	data, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("no PEM block in the certificate")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return base64.StdEncoding.EncodeToString(sum[:])
}
