package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/fleet"
	"github.com/streamstack/streamstack/session"
)

// CreateRequest is the body of POST /1.0/sessions, as the Anbox streaming
// SDK sends it. Missing screen fields take Config.DefaultScreen.
type CreateRequest struct {
	App         string          `json:"app"`
	AppVersion  AppVersion      `json:"app_version"`
	Region      string          `json:"region"`
	Joinable    bool            `json:"joinable"`
	Screen      session.Screen  `json:"screen"`
	ExtraData   json.RawMessage `json:"extra_data"`
	IdleTimeMin int             `json:"idle_time_min"`
}

// JoinRequest is the body of POST /1.0/sessions/{id}/join. The body is
// optional (the SDK sends none) and the screen is accepted but not used:
// a joined session keeps the screen it was created with.
type JoinRequest struct {
	Screen *session.Screen `json:"screen,omitempty"`
}

// AppVersion accepts a number or a numeric string: the SDK passes through
// whatever its caller gave. -1 and 0 mean the latest version.
type AppVersion int

// UnmarshalJSON implements json.Unmarshaler.
func (v *AppVersion) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return badRequest("app_version must be an integer")
		}
		b = []byte(strings.TrimSpace(s))
		if len(b) == 0 {
			return nil
		}
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return badRequest("app_version must be an integer, got %s", truncate(string(b), 32))
	}
	*v = AppVersion(n)
	return nil
}

// SessionWithURL is a session record with what a client needs to connect:
// the answer of create and join.
type SessionWithURL struct {
	*session.Session
	// URL is the absolute websocket URL of the signaling bridge, with a
	// session token valid for Config.SessionTokenTTL.
	URL string `json:"url"`
	// StunServers are the STUN/TURN servers for the client; never null.
	StunServers []StunServer `json:"stun_servers"`
}

func (s *Server) requestCtx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request) {
	var req CreateRequest
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	sess, err := s.newSession(req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	if s.cfg.RequireCapacity {
		if err := s.checkCapacity(ctx, sess.Region); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	if err := s.sessions.Create(ctx, sess); err != nil {
		if !errors.Is(err, njs.ErrKeyExists) { // never touch another session's record
			s.abandon(sess.ID, err)
		}
		s.fail(w, r, err)
		return
	}
	s.log.Info("session created", "session", sess.ID, "app", sess.App, "region", sess.Region,
		"screen", fmt.Sprintf("%dx%d@%d", sess.Screen.Width, sess.Screen.Height, sess.Screen.FPS), "joinable", sess.Joinable)
	// Answer at once, status "created": the client opens the websocket
	// straight away and its frames wait in JetStream until the streamer runs.
	writeSync(w, http.StatusCreated, s.withURL(r, sess))
}

// newSession validates a create request and fills the defaults.
func (s *Server) newSession(req CreateRequest) (*session.Session, error) {
	req.App = strings.TrimSpace(req.App)
	if req.App == "" {
		return nil, badRequest("app is required")
	}
	if err := s.checkName("app", req.App); err != nil {
		return nil, err
	}
	req.Region = strings.TrimSpace(req.Region)
	if err := s.checkName("region", req.Region); err != nil {
		return nil, err
	}
	if req.AppVersion < -1 {
		return nil, badRequest("app_version must be -1 (latest) or more, got %d", req.AppVersion)
	}
	if req.IdleTimeMin < 0 || req.IdleTimeMin > s.cfg.MaxIdleTimeMin {
		return nil, badRequest("idle_time_min must be between 0 and %d, got %d", s.cfg.MaxIdleTimeMin, req.IdleTimeMin)
	}
	scr := req.Screen
	for _, f := range []struct {
		name string
		v    *int
		def  int
	}{
		{"width", &scr.Width, s.cfg.DefaultScreen.Width},
		{"height", &scr.Height, s.cfg.DefaultScreen.Height},
		{"fps", &scr.FPS, s.cfg.DefaultScreen.FPS},
		{"density", &scr.Density, s.cfg.DefaultScreen.Density},
	} {
		if *f.v < 0 {
			return nil, badRequest("screen.%s must not be negative, got %d", f.name, *f.v)
		}
		if *f.v == 0 {
			*f.v = f.def
		}
	}
	if err := s.cfg.checkScreen(scr, "screen"); err != nil {
		return nil, badRequest("%v", err)
	}
	extra := req.ExtraData
	if t := bytes.TrimSpace(extra); len(t) == 0 || string(t) == "null" {
		extra = nil
	}
	return &session.Session{
		ID:          session.NewID(),
		App:         req.App,
		AppVersion:  int(req.AppVersion),
		Region:      req.Region,
		Joinable:    req.Joinable,
		Ephemeral:   !req.Joinable,
		IdleTimeMin: req.IdleTimeMin,
		Screen:      scr,
		ExtraData:   extra,
	}, nil
}

// checkName bounds a name-like field and keeps control characters out of
// records and logs.
func (s *Server) checkName(field, v string) error {
	if len(v) > s.cfg.MaxNameBytes {
		return badRequest("%s must be at most %d bytes, got %d", field, s.cfg.MaxNameBytes, len(v))
	}
	for _, c := range v {
		if unicode.IsControl(c) || c == unicode.ReplacementChar {
			return badRequest("%s must be printable UTF-8 text", field)
		}
	}
	return nil
}

// checkCapacity reports ErrNoCapacity when no live agent (in region, when
// set) has free units.
func (s *Server) checkCapacity(ctx context.Context, region string) error {
	agents, err := fleet.List(ctx, s.res.Agents)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	for _, a := range agents {
		if (region == "" || a.Region == region) && a.FreeUnits() > 0 {
			return nil
		}
	}
	if region != "" {
		return fmt.Errorf("%w: no live agent in region %q has free encoder units", ErrNoCapacity, region)
	}
	return fmt.Errorf("%w: no live agent has free encoder units", ErrNoCapacity)
}

// abandon marks a session whose creation failed half-way (record written,
// placement request not queued) as an error, so it does not wait forever.
func (s *Server) abandon(id string, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
	defer cancel()
	_, err := s.sessions.Update(ctx, id, func(x *session.Session) error {
		x.Status = session.StatusError
		x.Reason = "placement request not queued"
		x.StatusMessage = "could not queue the placement request"
		return nil
	})
	if err != nil && !errors.Is(err, session.ErrNotFound) {
		s.log.Warn("could not mark failed session", "session", id, "cause", cause, "err", err)
	}
}

// withURL adds the websocket URL with a fresh session token and the STUN
// servers to a record.
func (s *Server) withURL(r *http.Request, sess *session.Session) SessionWithURL {
	stun := []StunServer{}
	if s.iceServers != nil {
		if list := s.iceServers(sess.ID); list != nil {
			stun = list
		}
	}
	return SessionWithURL{Session: sess, URL: s.socketURL(r, sess.ID), StunServers: stun}
}

// socketURL is the absolute websocket URL of a session's client socket.
func (s *Server) socketURL(r *http.Request, id string) string {
	token := s.tokens.SessionToken(id, time.Now().Add(s.cfg.SessionTokenTTL))
	base := s.publicBase
	if base == "" {
		base = s.requestBase(r)
	}
	return base + pathSessions + "/" + url.PathEscape(id) + "/sockets/client?token=" + url.QueryEscape(token)
}

// requestBase derives ws(s)://host from the request the client made.
func (s *Server) requestBase(r *http.Request) string {
	scheme := "ws"
	if r.TLS != nil {
		scheme = "wss"
	}
	host := r.Host
	if s.cfg.TrustForwardedHeaders {
		switch strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Proto"))) {
		case "https", "wss":
			scheme = "wss"
		case "http", "ws":
			scheme = "ws"
		}
		if h := firstValue(r.Header.Get("X-Forwarded-Host")); validHost(h) {
			host = h
		}
	}
	if !validHost(host) {
		host = "localhost"
	}
	return scheme + "://" + host
}

// firstValue is the first of a comma-separated header list (proxies
// append theirs).
func firstValue(h string) string {
	v, _, _ := strings.Cut(h, ",")
	return strings.TrimSpace(v)
}

// validHost accepts host[:port] without anything that could change the
// shape of the URL it goes into.
func validHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`/?#@\"<>{}|^`+"`", c) >= 0 {
			return false
		}
	}
	return true
}

func (s *Server) handleGet(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	sess, _, err := s.sessions.Get(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeSync(w, http.StatusOK, sess)
}

// listStatuses are the values the status filter accepts.
var listStatuses = []session.Status{
	session.StatusCreated, session.StatusActive, session.StatusError,
	session.StatusTerminating, session.StatusTerminated,
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var status session.Status
	if v := q.Get("status"); v != "" {
		status = session.Status(v)
		valid := false
		for _, st := range listStatuses {
			valid = valid || st == status
		}
		if !valid {
			s.fail(w, r, badRequest("status must be one of created, active, error, terminating, terminated; got %q", truncate(v, 32)))
			return
		}
	}
	limit, err := queryInt(q, "limit")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if s.cfg.MaxListLimit > 0 && (limit == 0 || limit > s.cfg.MaxListLimit) {
		limit = s.cfg.MaxListLimit
	}
	offset, err := queryInt(q, "offset")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recursive := false
	for _, key := range []string{"recursive", "recursion"} {
		switch strings.ToLower(q.Get(key)) {
		case "", "0", "false":
		case "1", "true":
			recursive = true
		default:
			s.fail(w, r, badRequest("%s must be 0 or 1", key))
			return
		}
	}

	ctx, cancel := s.requestCtx(r)
	defer cancel()
	list, err := s.sessions.List(ctx, func(x *session.Session) bool { return status == "" || x.Status == status })
	if err != nil {
		s.fail(w, r, err)
		return
	}
	list = list[min(offset, len(list)):]
	if limit > 0 {
		list = list[:min(limit, len(list))]
	}
	if recursive {
		out := make([]*session.Session, 0, len(list))
		writeSync(w, http.StatusOK, append(out, list...))
		return
	}
	ids := make([]string, 0, len(list))
	for _, x := range list {
		ids = append(ids, x.ID)
	}
	writeSync(w, http.StatusOK, ids)
}

// queryInt parses an optional non-negative integer parameter; absent is 0.
func queryInt(q url.Values, key string) (int, error) {
	v := q.Get(key)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, badRequest("%s must be a non-negative integer, got %q", key, truncate(v, 32))
	}
	return n, nil
}

func (s *Server) handleDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	after, err := s.sessions.Update(ctx, id, func(x *session.Session) error {
		if x.Status == session.StatusTerminating {
			return session.ErrNoChange // already on its way out
		}
		if x.Status == session.StatusCreated && x.Agent == "" {
			// Nobody runs it yet: end it here; the queued request is
			// dropped by the agent that finds it ended.
			x.Status = session.StatusTerminated
			x.StatusMessage = "deleted before placement"
		} else {
			// The agent and the streamer watch the record and finish it.
			x.Status = session.StatusTerminating
			x.StatusMessage = "deleted, stopping"
		}
		x.Reason = session.ReasonDeleted
		return nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("session deleted", "session", id, "status", after.Status)
	writeSync(w, http.StatusOK, after)
}

func (s *Server) handleJoin(w http.ResponseWriter, r *http.Request) {
	var req JoinRequest
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &req, true); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	sess, _, err := s.sessions.Get(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if sess.Status.Ended() {
		s.fail(w, r, fmt.Errorf("%w: %s is %s", session.ErrEnded, sess.ID, sess.Status))
		return
	}
	s.log.Info("session joined", "session", sess.ID)
	writeSync(w, http.StatusOK, s.withURL(r, sess))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
