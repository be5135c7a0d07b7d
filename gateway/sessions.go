package gateway

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/auth"
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
	// VideoCodecs are the codecs the client can decode, in its order
	// (VP8, H264); empty: any. Placement puts the session only on an
	// encoder of one of them (see package agent).
	VideoCodecs []string `json:"video_codecs"`
	// AllowViewers lets several peers stream the session at once, with
	// roles and share links (docs/peers.md); off, a join replaces the
	// session's peer, as in Anbox.
	AllowViewers bool `json:"allow_viewers"`
}

// videoCodecNames are the codecs video_codecs may name, as stored.
var videoCodecNames = []string{"VP8", "H264"}

// checkVideoCodecs normalizes a create request's video_codecs: known
// names, upper case, each once.
func checkVideoCodecs(in []string) ([]string, error) {
	var out []string
	for _, c := range in {
		i := slices.IndexFunc(videoCodecNames, func(n string) bool { return strings.EqualFold(n, strings.TrimSpace(c)) })
		if i < 0 {
			return nil, badRequest("video_codecs: unknown codec %q, want some of %v", truncate(c, 32), videoCodecNames)
		}
		if !slices.Contains(out, videoCodecNames[i]) {
			out = append(out, videoCodecNames[i])
		}
	}
	return out, nil
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
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	if err := s.checkCreate(ctx, tokenOf(r), s.clientAddr(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	sess, err := s.createSession(ctx, req, tokenOf(r).ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Answer at once, status "created": the client opens the websocket
	// straight away and its frames wait in JetStream until the streamer runs.
	writeSync(w, http.StatusCreated, s.withURL(r, sess))
}

// createSession validates req, stores the record and queues its placement:
// what both the HTTP API and the NATS service do to create a session.
// creator is the API token's id.
func (s *Server) createSession(ctx context.Context, req CreateRequest, creator string) (*session.Session, error) {
	sess, err := s.newSession(req)
	if err != nil {
		return nil, err
	}
	sess.CreatedBy = creator
	sess.Socket = newSocketToken() // the URL create answers
	if s.cfg.RequireCapacity {
		if err := s.checkCapacity(ctx, sess.Region, sess.VideoCodecs); err != nil {
			return nil, err
		}
	}
	if err := s.sessions.Create(ctx, sess); err != nil {
		if !errors.Is(err, njs.ErrKeyExists) { // never touch another session's record
			s.abandon(sess.ID, err)
		}
		return nil, err
	}
	s.log.Info("session created", "session", sess.ID, "app", sess.App, "region", sess.Region,
		"screen", fmt.Sprintf("%dx%d@%d", sess.Screen.Width, sess.Screen.Height, sess.Screen.FPS), "joinable", sess.Joinable)
	return sess, nil
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
	appScreen, err := s.checkApp(req.App)
	if err != nil {
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
		{"width", &scr.Width, cmp.Or(appScreen.Width, s.cfg.DefaultScreen.Width)},
		{"height", &scr.Height, cmp.Or(appScreen.Height, s.cfg.DefaultScreen.Height)},
		{"fps", &scr.FPS, cmp.Or(appScreen.FPS, s.cfg.DefaultScreen.FPS)},
		{"density", &scr.Density, cmp.Or(appScreen.Density, s.cfg.DefaultScreen.Density)},
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
	codecs, err := checkVideoCodecs(req.VideoCodecs)
	if err != nil {
		return nil, err
	}
	return &session.Session{
		ID:           session.NewID(),
		App:          req.App,
		AppVersion:   int(req.AppVersion),
		Region:       req.Region,
		Joinable:     req.Joinable,
		AllowViewers: req.AllowViewers,
		Ephemeral:    !req.Joinable,
		IdleTimeMin:  req.IdleTimeMin,
		Screen:       scr,
		ExtraData:    extra,
		VideoCodecs:  codecs,
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
// set) has free units on an encoder of one of codecs (any, when empty):
// units free only on VP8 encoders are no use to a client that decodes
// only H.264, and the agents would refuse it until the placement timeout.
func (s *Server) checkCapacity(ctx context.Context, region string, codecs []string) error {
	agents, err := fleet.List(ctx, s.res.JS, s.res.Agents)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	for _, a := range agents {
		if (region == "" || a.Region == region) && hasFreeEncoder(a, codecs) {
			return nil
		}
	}
	what := "free encoder units"
	if len(codecs) > 0 {
		what = fmt.Sprintf("free units on a %s encoder", strings.Join(codecs, " or "))
	}
	if region != "" {
		return fmt.Errorf("%w: no live agent in region %q has %s", ErrNoCapacity, region, what)
	}
	return fmt.Errorf("%w: no live agent has %s", ErrNoCapacity, what)
}

// hasFreeEncoder reports whether agent a heartbeats free units on a
// backend that encodes one of codecs. A heartbeat without backends (an
// agent older than per-backend heartbeats) is judged by its total alone:
// it cannot say which codecs are free, and placement still checks.
func hasFreeEncoder(a fleet.Heartbeat, codecs []string) bool {
	if a.FreeUnits() <= 0 {
		return false
	}
	if len(a.Backends) == 0 {
		return true
	}
	return slices.ContainsFunc(a.Backends, func(b fleet.Backend) bool {
		return b.FreeUnits > 0 && b.Encodes(codecs)
	})
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

// withURL adds the websocket URL with the record's socket token and the
// STUN servers to a record.
func (s *Server) withURL(r *http.Request, sess *session.Session) SessionWithURL {
	return SessionWithURL{Session: sess, URL: s.socketURL(r, sess), StunServers: s.stunServers(sess.ID)}
}

// stunServers are a session client's ICE servers; never nil.
func (s *Server) stunServers(id string) []StunServer {
	if s.iceServers != nil {
		if list := s.iceServers(id); list != nil {
			return list
		}
	}
	return []StunServer{}
}

// socketURL is the absolute websocket URL of a session's client socket.
func (s *Server) socketURL(r *http.Request, sess *session.Session) string {
	base := s.publicBase
	if base == "" {
		base = s.requestBase(r)
	}
	return s.socketURLFor(base, sess)
}

// socketURLFor is the websocket URL under base with sess's current socket
// token (sockettoken.go); empty without a base or a token.
func (s *Server) socketURLFor(base string, sess *session.Session) string {
	if base == "" || sess.Socket == nil {
		return ""
	}
	token := s.tokens.SessionToken(sess.ID, sess.Socket.ID, sess.Socket.IssuedAt.Add(s.cfg.SessionTokenTTL))
	return base + pathSessions + "/" + url.PathEscape(sess.ID) + "/sockets/client?token=" + url.QueryEscape(token)
}

// requestBase derives ws(s)://host from the request the client made.
func (s *Server) requestBase(r *http.Request) string {
	scheme := "ws"
	if r.TLS != nil {
		scheme = "wss"
	}
	host := r.Host
	if s.fromTrustedProxy(r) {
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
	sess, err := s.getSession(ctx, r.PathValue("id"))
	if err == nil {
		err = ownSession(tokenOf(r), sess.Session)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeSync(w, http.StatusOK, sess)
}

// SessionWithStats is a record with its streamer's latest report.
type SessionWithStats struct {
	*session.Session
	// Stats is the data of the latest session.stats event, when the
	// streamer has sent one; StatsAt is when.
	Stats   json.RawMessage `json:"stats,omitempty"`
	StatsAt *time.Time      `json:"stats_at,omitempty"`
}

// getSession reads a record and the latest stats its streamer reported.
func (s *Server) getSession(ctx context.Context, id string) (*SessionWithStats, error) {
	sess, _, err := s.sessions.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &SessionWithStats{Session: sess}
	if ev, err := s.sessions.LatestStats(ctx, id); err != nil {
		s.log.Warn("latest stats", "session", id, "err", err)
	} else if ev != nil {
		out.Stats, out.StatsAt = ev.Data, &ev.Time
	}
	return out, nil
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
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	if err := s.checkOwnRequest(r, r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	after, err := s.deleteSession(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeSync(w, http.StatusOK, after)
}

// deleteSession ends a session: at once when nobody runs it yet, otherwise
// by marking it terminating for its agent and streamer to finish.
func (s *Server) deleteSession(ctx context.Context, id string) (*session.Session, error) {
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
		return nil, err
	}
	s.log.Info("session deleted", "session", id, "status", after.Status)
	return after, nil
}

func (s *Server) handleJoin(w http.ResponseWriter, r *http.Request) {
	var req JoinRequest
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &req, true); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	if err := s.checkOwnRequest(r, r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	sess, err := s.joinSession(ctx, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeSync(w, http.StatusOK, s.withURL(r, sess))
}

// joinSession records a new socket token for a session that can take a
// new client: its URL is the only one that opens a websocket now, and the
// connection it opens replaces the session's viewer once its peer
// connects (see package streamer). An ended session refuses (ErrEnded).
func (s *Server) joinSession(ctx context.Context, id string) (*session.Session, error) {
	sess, err := s.issueSocketToken(ctx, id)
	if err != nil {
		return nil, err
	}
	s.log.Info("session joined", "session", sess.ID)
	return sess, nil
}

// checkOwnRequest is checkOwn for an HTTP request's token.
func (s *Server) checkOwnRequest(r *http.Request, id string) error {
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	return s.checkOwn(ctx, tokenOf(r), id)
}

// checkOwn reads session id for a sessions-scoped token and refuses
// another's as missing; other scopes pass without a read.
func (s *Server) checkOwn(ctx context.Context, info auth.Info, id string) error {
	if info.Scoped() != auth.ScopeSessions {
		return nil
	}
	sess, _, err := s.sessions.Get(ctx, id)
	if err != nil {
		return err
	}
	return ownSession(info, sess)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
