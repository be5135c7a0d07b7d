// Package certfile serves a TLS certificate from PEM files and picks up
// a renewed one (certbot, cert-manager) without a restart: the files are
// checked at most once a CheckInterval and reloaded when either changed.
// It owns nothing else: listeners and TLS settings are its callers'.
package certfile

import (
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// ErrCert: the files do not hold a usable certificate and key.
var ErrCert = errors.New("certfile: bad certificate")

// Reloader holds the certificate of CertFile and KeyFile.
type Reloader struct {
	certFile, keyFile string
	// CheckInterval is the least time between two looks at the files;
	// New sets one second.
	CheckInterval time.Duration
	// OnError is told of a reload that failed (the previous certificate
	// stays in use); nil: nothing.
	OnError func(error)

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   [2]time.Time // the files' modification times when loaded
	checked time.Time
}

// New loads the certificate; an unusable one is an error now, not at the
// first handshake.
func New(certFile, keyFile string) (*Reloader, error) {
	r := &Reloader{certFile: certFile, keyFile: keyFile, CheckInterval: time.Second}
	stamp, err := r.stamps()
	if err != nil {
		return nil, err
	}
	if err := r.load(stamp); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *Reloader) stamps() ([2]time.Time, error) {
	var s [2]time.Time
	for i, p := range []string{r.certFile, r.keyFile} {
		fi, err := os.Stat(p)
		if err != nil {
			return s, fmt.Errorf("%w: %w", ErrCert, err)
		}
		s[i] = fi.ModTime()
	}
	return s, nil
}

func (r *Reloader) load(stamp [2]time.Time) error {
	c, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		return fmt.Errorf("%w: %s, %s: %w", ErrCert, r.certFile, r.keyFile, err)
	}
	r.cert, r.stamp = &c, stamp
	return nil
}

// GetCertificate is tls.Config's: the current certificate, reloaded
// first when the files changed since it was loaded.
func (r *Reloader) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if now.Sub(r.checked) >= r.CheckInterval {
		r.checked = now
		if stamp, err := r.stamps(); err == nil && stamp != r.stamp {
			if err := r.load(stamp); err != nil && r.OnError != nil {
				r.OnError(err)
			}
		}
	}
	return r.cert, nil
}
