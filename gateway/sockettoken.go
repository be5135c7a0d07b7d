package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"

	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/session"
)

// A session URL opens one websocket. Create and join each mint a token id
// and record it in the session record (session.SocketToken); the URL's
// token carries that id, signed. The websocket upgrade marks the record's
// token used with a compare-and-set on the record's revision
// (session.Store.Update), so of two websockets presenting one URL, on one
// gateway or two, exactly one gets in and the other is refused before its
// upgrade: 409, "join the session for a new one". A join records a new id,
// which supersedes every URL answered before it, used or not. Gateways
// keep nothing of it: the record in NATS is the only state.
//
// What a client reconnecting does is therefore a join: the JS SDK
// (_reconnect) and the web page join again, and the Go client's Join gives
// a fresh URL. Resuming a session through another gateway is a join
// through that gateway; nothing here is tied to the gateway that minted
// the token.

// A client that holds only a session URL (no API token, so no join) can
// still fail over: a websocket opened with ?resume=1 gets, as its first
// frame and before anything the streamer sends, {"type":"gateway::resume",
// "token":R}. R is signed like a URL token but names "resume-" plus the
// token id the websocket used, so it is no URL token (the websocket's
// check refuses it) and a URL token is no R. POST
// /1.0/sessions/{id}/resume {"token":R} through any gateway does what a
// join does (a new URL, replacing every earlier one) while the record's
// token is still the one R names and was used; that replaces it, so R
// works once, and any join retires it too. A leaked used URL opens and
// resumes nothing: R travels only inside that websocket, never in a URL.
// Clients that do not ask (the Anbox SDK) never see the frame.

// resumePrefix marks a resume credential's token id.
const resumePrefix = "resume-"

// resumeFrame is the first frame of a websocket opened with ?resume=1.
type resumeFrame struct {
	Type  string `json:"type"`
	Token string `json:"token"`
}

// typeResume is resumeFrame's type; the streamer never sends it.
const typeResume = "gateway::resume"

// resumeCredential is the credential that resumes session id after a
// websocket used token tokenID.
func (s *Server) resumeCredential(id, tokenID string) string {
	return s.tokens.SessionToken(id, resumePrefix+tokenID, time.Now().Add(s.cfg.SessionTokenTTL))
}

// resumeSession checks credential for session id and records a new socket
// token, as a join does: ErrUnauthorized for a credential that is no
// resume credential of this session, ErrSocketTokenUsed for one that was
// used or replaced by a join, session.ErrEnded for an ended session.
func (s *Server) resumeSession(ctx context.Context, id, credential string) (*session.Session, error) {
	tid, err := s.tokens.VerifySession(credential, id, time.Now())
	if err != nil {
		return nil, fmt.Errorf("invalid resume token: %w", err)
	}
	tokenID, ok := strings.CutPrefix(tid, resumePrefix)
	if !ok {
		return nil, fmt.Errorf("%w: not a resume token (a session URL's token does not resume)", auth.ErrUnauthorized)
	}
	return s.sessions.Update(ctx, id, func(x *session.Session) error {
		if t := x.Socket; t == nil || t.ID != tokenID || t.UsedAt.IsZero() {
			return fmt.Errorf("%w: this resume token was used or replaced by a join; join the session for a new URL", ErrSocketTokenUsed)
		}
		x.Socket = newSocketToken()
		return nil
	})
}

// newSocketToken is a fresh token entry for a session record.
func newSocketToken() *session.SocketToken {
	return &session.SocketToken{ID: auth.NewSocketTokenID(), IssuedAt: time.Now().UTC()}
}

// issueSocketToken records a new websocket token for a running session,
// superseding any earlier one, and returns the record that carries it.
func (s *Server) issueSocketToken(ctx context.Context, id string) (*session.Session, error) {
	return s.sessions.Update(ctx, id, func(x *session.Session) error {
		x.Socket = newSocketToken()
		return nil
	})
}

// socketToken finds token tokenID in the record: the owner's (grant
// session.RoleOwner) or a guest's, which a share-link join minted (its
// link's role). Nil when it is neither.
func socketToken(sess *session.Session, tokenID string) (t *session.SocketToken, grant string) {
	if sess.Socket != nil && sess.Socket.ID == tokenID {
		return sess.Socket, session.RoleOwner
	}
	for i := range sess.Guests {
		if sess.Guests[i].ID == tokenID {
			return &sess.Guests[i], sess.Guests[i].Role
		}
	}
	return nil, ""
}

// checkSocketToken tells whether the record still lets token tokenID open
// a websocket, and with which grant: the cheap refusal, before anything is
// allocated for it.
func checkSocketToken(sess *session.Session, tokenID string) (string, error) {
	t, grant := socketToken(sess, tokenID)
	switch {
	case t == nil:
		return "", fmt.Errorf("%w: this session URL was replaced by a later join; join the session for a new one", ErrSocketTokenUsed)
	case !t.UsedAt.IsZero():
		return "", fmt.Errorf("%w: this session URL was already used at %s; join the session for a new one",
			ErrSocketTokenUsed, t.UsedAt.Format(time.RFC3339))
	}
	return grant, nil
}

// useSocketToken marks the record's token tokenID used by connection
// connID, or refuses it (ErrSocketTokenUsed) when another websocket used
// it first or a join replaced it. The record's compare-and-set decides
// between racing websockets.
func (s *Server) useSocketToken(ctx context.Context, id, tokenID, connID string) error {
	_, err := s.sessions.Update(ctx, id, func(x *session.Session) error {
		if _, err := checkSocketToken(x, tokenID); err != nil {
			return err
		}
		if x.Socket != nil && x.Socket.ID == tokenID {
			t := *x.Socket // the record's pointer may be shared with its last read
			x.Socket = &t
		}
		t, _ := socketToken(x, tokenID)
		t.UsedAt, t.UsedBy = time.Now().UTC(), connID
		return nil
	})
	return err
}

// upgradeProblem refuses a request that is no websocket handshake, or one
// from an origin the gateway does not allow, before its session token is
// spent: a link preview fetching the URL, or a foreign page that got hold
// of it, must not use up the viewer's one connection. It checks what
// websocket.Accept would refuse.
func (s *Server) upgradeProblem(w http.ResponseWriter, r *http.Request) error {
	if !s.originAllowed(r) {
		return fmt.Errorf("%w: origin %q may not open this session's websocket (see --allowed-origins)", ErrForbiddenOrigin, r.Header.Get("Origin"))
	}
	if r.Method != http.MethodGet || !r.ProtoAtLeast(1, 1) ||
		!headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") ||
		r.Header.Get("Sec-WebSocket-Version") != "13" {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "websocket")
		w.Header().Set("Sec-WebSocket-Version", "13")
		return fmt.Errorf("%w: this URL is a websocket (GET, HTTP/1.1, Upgrade: websocket, Sec-WebSocket-Version: 13)", ErrNotWebsocket)
	}
	if keys := r.Header.Values("Sec-WebSocket-Key"); len(keys) != 1 {
		return badRequest("a websocket handshake needs one Sec-WebSocket-Key")
	}
	return nil
}

// headerHasToken reports whether the comma-separated header key lists
// token, in any case.
func headerHasToken(h http.Header, key, token string) bool {
	for _, v := range h.Values(key) {
		for t := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}

// ResumeRequest is the body of POST /1.0/sessions/{id}/resume.
type ResumeRequest struct {
	// Token is the credential of a websocket's gateway::resume frame.
	Token string `json:"token"`
}

// handleResume answers a fresh session URL to the holder of a resume
// credential, through any gateway; it takes no API token.
func (s *Server) handleResume(w http.ResponseWriter, r *http.Request) {
	// No API token guards it, so each address gets the create rate: a
	// resume mints a URL as a create does.
	if host := s.clientAddr(r); s.quotas.perIP != nil && !s.quotas.perIP.allow(host, time.Now()) {
		s.fail(w, r, fmt.Errorf("%w: more than %g session creates and resumes a second from %s (--creates-per-ip-per-second)",
			ErrQuota, s.cfg.CreatesPerIPPerSecond, host))
		return
	}
	var req ResumeRequest
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &req, false); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Token == "" {
		s.fail(w, r, badRequest("token is required: the credential of the websocket's gateway::resume frame"))
		return
	}
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	sess, err := s.resumeSession(ctx, r.PathValue("id"), req.Token)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.Info("session resumed", "session", sess.ID)
	writeSync(w, http.StatusOK, s.withURL(r, sess))
}

// sendResume writes the resume credential frame of a websocket that used
// token tokenID (see resumePrefix).
func (s *Server) sendResume(c *websocket.Conn, id, tokenID string) error {
	frame, err := json.Marshal(resumeFrame{Type: typeResume, Token: s.resumeCredential(id, tokenID)})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.WriteTimeout)
	defer cancel()
	return c.Write(ctx, websocket.MessageText, frame)
}
