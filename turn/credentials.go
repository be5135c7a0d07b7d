package turn

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // the TURN REST API scheme is HMAC-SHA1, as coturn implements it
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pion/stun/v4"
)

// DefaultCredentialTTL is how long a credential stays valid by default: the
// TURN REST API draft's day. A TURN server refuses an allocation's refreshes
// once its credential expires, so this bounds how long one connection can
// relay; a shorter one narrows what a leaked credential is good for.
const DefaultCredentialTTL = 24 * time.Hour

// Credential is one time-limited TURN credential in the TURN REST API
// scheme: what a session's stun_servers carry.
type Credential struct {
	// Username is "<expiry unix seconds>:<user>".
	Username string
	// Password is base64(HMAC-SHA1(secret, Username)).
	Password string
	// Expires is when a TURN server stops accepting it.
	Expires time.Time
}

// NewCredential makes user's credential, valid from now for ttl. The user
// must not contain ':' (coturn's separator); a session id never does.
func NewCredential(secret, user string, ttl time.Duration, now time.Time) Credential {
	exp := now.Add(ttl).Truncate(time.Second)
	name := strconv.FormatInt(exp.Unix(), 10) + ":" + user
	return Credential{Username: name, Password: password(secret, name), Expires: exp}
}

// CheckCredential verifies a username and password against secret at now:
// the same check a TURN server with use-auth-secret makes (the server
// proves the password through MESSAGE-INTEGRITY instead of seeing it).
func CheckCredential(secret, username, pass string, now time.Time) error {
	exp, err := Expiry(username)
	if err != nil {
		return err
	}
	if !now.Before(exp) {
		return fmt.Errorf("%w: expired at %s", ErrCredential, exp.UTC().Format(time.RFC3339))
	}
	want := password(secret, username)
	if subtle.ConstantTimeCompare([]byte(want), []byte(pass)) != 1 {
		return fmt.Errorf("%w: password does not match", ErrCredential)
	}
	return nil
}

// Expiry reads the expiry from a TURN REST API username
// ("<unix seconds>" or "<unix seconds>:<user>").
func Expiry(username string) (time.Time, error) {
	ts, _, _ := strings.Cut(username, ":")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec <= 0 {
		return time.Time{}, fmt.Errorf("%w: username %q does not start with an expiry timestamp", ErrCredential, username)
	}
	return time.Unix(sec, 0), nil
}

func password(secret, username string) string {
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ICEServer is one STUN/TURN server entry, in the shape of the W3C
// RTCIceServer and of the Anbox SDK's stun_servers.
type ICEServer struct {
	URLs     []string
	Username string
	Password string
}

// Issuer hands out a session's ICE servers with a fresh credential.
type Issuer struct {
	// URLs are stun:, turn: and turns: URLs of one TURN server (or of
	// several that share Secret).
	URLs []string
	// Secret is the shared secret of those servers.
	Secret string
	// TTL is how long a credential stays valid. A TURN server refuses an
	// allocation's refreshes after it, so it bounds one connection's life.
	TTL time.Duration
	// Now reads the clock; nil is time.Now.
	Now func() time.Time
}

// ICEServers returns the servers for user (a session id) with a
// credential valid for TTL from now; none when there are no URLs. STUN
// needs no credential: a list of stun: URLs only gets none.
func (i *Issuer) ICEServers(user string) []ICEServer {
	if i == nil || len(i.URLs) == 0 {
		return nil
	}
	srv := ICEServer{URLs: append([]string(nil), i.URLs...)}
	if NeedsCredential(i.URLs) {
		now := time.Now
		if i.Now != nil {
			now = i.Now
		}
		c := NewCredential(i.Secret, user, i.TTL, now())
		srv.Username, srv.Password = c.Username, c.Password
	}
	return []ICEServer{srv}
}

// NeedsCredential reports whether any of urls is a TURN URL.
func NeedsCredential(urls []string) bool {
	for _, u := range urls {
		if strings.HasPrefix(u, "turn:") || strings.HasPrefix(u, "turns:") {
			return true
		}
	}
	return false
}

// CheckURLs reports the first URL that is not a valid stun:, stuns:,
// turn: or turns: URL.
func CheckURLs(urls []string) error {
	for _, u := range urls {
		if _, err := stun.ParseURI(u); err != nil {
			return fmt.Errorf("%w: ICE server URL %q: %v", ErrConfig, u, err)
		}
	}
	return nil
}

// SplitList splits a comma-separated setting, dropping blanks.
func SplitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
