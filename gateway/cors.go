package gateway

import (
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/coder/websocket"
)

// Cross-origin access. Pages on other sites embed streaming: they call the
// API with fetch and open the signaling websocket from their own origin.
// Config.AllowedOrigins names the origins that may; the gateway's own origin
// always may (a same-origin request needs no CORS). A browser request from
// any other origin is refused with 403: its preflight, its actual request
// and its websocket upgrade. Requests without an Origin header (curl, the Go
// client, a server) are not cross-origin requests and pass.
//
// Only the API under /1.0/ is checked here; the static web client and SDK
// (Deps.Fallback) are public files and set their own headers.

// Preflight answers. The API's methods and the request headers clients
// send: Authorization for the token, Content-Type for JSON bodies.
const (
	corsAllowMethods = "GET, POST, DELETE, OPTIONS"
	corsAllowHeaders = "Authorization, Content-Type, Accept"
	corsMaxAge       = 3600 // seconds a browser may cache a preflight
)

// AnyOrigin in Config.AllowedOrigins allows every origin.
const AnyOrigin = "*"

// checkOrigins validates AllowedOrigins entries: "*", or
// scheme://host[:port] where host may hold path.Match wildcards
// ("https://*.example.com").
func checkOrigins(list []string) error {
	for _, o := range list {
		if o == AnyOrigin {
			continue
		}
		u, err := url.Parse(o)
		switch {
		case err != nil:
			return fmt.Errorf("AllowedOrigins: %q: %v", o, err)
		case u.Scheme != "http" && u.Scheme != "https":
			return fmt.Errorf("AllowedOrigins: %q: want scheme://host[:port] with scheme http or https, or * for any", o)
		case u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil:
			return fmt.Errorf("AllowedOrigins: %q: want scheme://host[:port] without path, query or user", o)
		}
		if _, err := path.Match(strings.ToLower(o), ""); err != nil {
			return fmt.Errorf("AllowedOrigins: %q: bad wildcard: %v", o, err)
		}
	}
	return nil
}

// originAllowed reports whether a request's Origin may use the API: no
// Origin, the gateway's own origin, or one of AllowedOrigins.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false // "null" (sandboxed frames, file://) and garbage
	}
	if s.sameOrigin(r, u.Host) {
		return true
	}
	want := strings.ToLower(u.Scheme + "://" + u.Host)
	for _, o := range s.cfg.AllowedOrigins {
		if o == AnyOrigin {
			return true
		}
		if ok, _ := path.Match(strings.ToLower(strings.TrimSuffix(o, "/")), want); ok {
			return true
		}
	}
	return false
}

// sameOrigin reports whether host is the gateway's own: the request's Host,
// the forwarded host when trusted, or the host of PublicURL.
func (s *Server) sameOrigin(r *http.Request, host string) bool {
	if strings.EqualFold(host, r.Host) {
		return true
	}
	if s.fromTrustedProxy(r) {
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); h != "" && strings.EqualFold(host, h) {
			return true
		}
	}
	if s.publicBase != "" {
		if u, err := url.Parse(s.publicBase); err == nil && strings.EqualFold(host, u.Host) {
			return true
		}
	}
	return false
}

// cors handles the cross-origin side of an API request. It answers
// preflights and refusals itself and reports true then; otherwise it adds
// the headers an allowed cross-origin response needs and reports false.
func (s *Server) cors(w http.ResponseWriter, r *http.Request) (handled bool) {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	h := w.Header()
	h.Add("Vary", "Origin")
	preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
	if preflight {
		h.Add("Vary", "Access-Control-Request-Method")
		h.Add("Vary", "Access-Control-Request-Headers")
	}
	if !s.originAllowed(r) {
		s.log.Info("cross-origin request refused", "origin", origin, "method", r.Method, "path", r.URL.Path)
		s.fail(w, r, fmt.Errorf("%w: origin %q may not use this gateway (see --allowed-origins)", ErrForbiddenOrigin, origin))
		return true
	}
	h.Set("Access-Control-Allow-Origin", origin)
	if !preflight {
		return false
	}
	h.Set("Access-Control-Allow-Methods", corsAllowMethods)
	h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
	h.Set("Access-Control-Max-Age", strconv.Itoa(corsMaxAge))
	w.WriteHeader(http.StatusNoContent)
	return true
}

// acceptOptions checks a websocket's Origin as the API does: the session
// token in the URL authorizes the connection, the origin check keeps other
// sites' pages from using a token they got hold of. Origins the gateway
// allows skip the library's own check (which only knows the Host header);
// any other is left to it, which refuses a foreign origin with 403.
func (s *Server) acceptOptions(r *http.Request) *websocket.AcceptOptions {
	return &websocket.AcceptOptions{InsecureSkipVerify: s.originAllowed(r)}
}
