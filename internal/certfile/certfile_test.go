package certfile

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writePair(t *testing.T, dir string, n int64) (certFile, keyFile string) {
	t.Helper()
	certFile, keyFile, err := WriteSelfSigned(dir, "localhost", n)
	if err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile
}

func serial(t *testing.T, r *Reloader) int64 {
	t.Helper()
	c, err := r.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	x, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	return x.SerialNumber.Int64()
}

// A renewed pair is served from the next handshake after the check
// interval; a broken one leaves the last good certificate in use.
func TestReload(t *testing.T) {
	dir := t.TempDir()
	cf, kf := writePair(t, dir, 1)
	r, err := New(cf, kf)
	if err != nil {
		t.Fatal(err)
	}
	r.CheckInterval = 0
	var reported error
	r.OnError = func(err error) { reported = err }
	if s := serial(t, r); s != 1 {
		t.Fatalf("serial %d", s)
	}
	writePair(t, dir, 2)
	later := time.Now().Add(time.Minute) // file times may not move within their granularity
	for _, p := range []string{cf, kf} {
		if err := os.Chtimes(p, later, later); err != nil {
			t.Fatal(err)
		}
	}
	if s := serial(t, r); s != 2 {
		t.Fatalf("after renewal: serial %d, want 2", s)
	}
	if err := os.WriteFile(cf, []byte("not a certificate"), 0o644); err != nil {
		t.Fatal(err)
	}
	later = later.Add(time.Minute)
	if err := os.Chtimes(cf, later, later); err != nil {
		t.Fatal(err)
	}
	if s := serial(t, r); s != 2 || !errors.Is(reported, ErrCert) {
		t.Fatalf("a broken file: serial %d, reported %v", s, reported)
	}
	if _, err := New(filepath.Join(dir, "missing.pem"), kf); !errors.Is(err, ErrCert) {
		t.Errorf("missing file: %v", err)
	}
}
