package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/session"
)

// apiToken extracts the API token of a request, in the forms clients use:
//
//	Authorization: Macaroon root=<token>   (the Anbox streaming SDK)
//	Authorization: Bearer <token>
//	?api_token=<token>
//
// The scheme word is case-insensitive. It returns "" when there is none.
func apiToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, rest, _ := strings.Cut(strings.TrimSpace(h), " ")
		rest = strings.TrimSpace(rest)
		switch {
		case strings.EqualFold(scheme, "Bearer"):
			return rest
		case strings.EqualFold(scheme, "Macaroon"):
			// root=<token>, possibly followed by discharge macaroons.
			for part := range strings.FieldsFuncSeq(rest, func(c rune) bool { return c == ',' || c == ' ' }) {
				if k, v, ok := strings.Cut(part, "="); ok && strings.EqualFold(k, "root") {
					return v
				}
			}
			return ""
		}
		return ""
	}
	return r.URL.Query().Get("api_token")
}

// verifyAPIToken checks the request's API token. A missing or wrong token is
// auth.ErrUnauthorized (401); a lookup that fails is ErrUnavailable (503).
func (s *Server) verifyAPIToken(ctx context.Context, r *http.Request) (auth.Info, error) {
	tok := apiToken(r)
	if tok == "" {
		return auth.Info{}, fmt.Errorf("%w: missing API token (Authorization: Bearer <token>, Authorization: Macaroon root=<token> or ?api_token=<token>)", auth.ErrUnauthorized)
	}
	info, err := s.tokens.Verify(ctx, tok)
	switch {
	case errors.Is(err, auth.ErrUnauthorized):
		return auth.Info{}, fmt.Errorf("%w: invalid API token", auth.ErrUnauthorized)
	case err != nil:
		return auth.Info{}, fmt.Errorf("%w: verify token: %w", ErrUnavailable, err)
	}
	return info, nil
}

// Access is what a route needs of a token's scope.
type access int

const (
	// readAccess: any valid token (read, sessions, admin).
	readAccess access = iota
	// writeAccess: sessions or admin; a sessions token only on the
	// sessions it created (checked by the handler: ownSession).
	writeAccess
)

// tokenKey holds a request's verified token in its context.
type tokenKey struct{}

// requireToken wraps h so it only runs with a valid API token whose scope
// allows need; the token's Info is in the request's context for h.
func (s *Server) requireToken(need access, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		info, err := s.verifyAPIToken(ctx, r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="streamstack"`)
			s.fail(w, r, err)
			return
		}
		if need == writeAccess && info.Scoped() == auth.ScopeRead {
			s.fail(w, r, fmt.Errorf("%w: token %s is read-only", auth.ErrForbidden, info.ID))
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, info)))
	}
}

// tokenOf is the verified token of a request that went through
// requireToken.
func tokenOf(r *http.Request) auth.Info {
	info, _ := r.Context().Value(tokenKey{}).(auth.Info)
	return info
}

// ownSession reports whether token info may see and manage sess:
// any for admin and read tokens (read ones only see), only its own for a
// sessions token. Another's session is answered as missing, so that a
// token cannot learn which ids exist.
func ownSession(info auth.Info, sess *session.Session) error {
	if info.Scoped() == auth.ScopeSessions && sess.CreatedBy != info.ID {
		return fmt.Errorf("%w: %s", session.ErrNotFound, sess.ID)
	}
	return nil
}
