package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

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

// checkSocketToken tells whether the record still lets token tokenID open
// a websocket: the cheap refusal, before anything is allocated for it.
func checkSocketToken(sess *session.Session, tokenID string) error {
	t := sess.Socket
	switch {
	case t == nil || t.ID != tokenID:
		return fmt.Errorf("%w: this session URL was replaced by a later join; join the session for a new one", ErrSocketTokenUsed)
	case !t.UsedAt.IsZero():
		return fmt.Errorf("%w: this session URL was already used at %s; join the session for a new one",
			ErrSocketTokenUsed, t.UsedAt.Format(time.RFC3339))
	}
	return nil
}

// useSocketToken marks the record's token tokenID used by connection
// connID, or refuses it (ErrSocketTokenUsed) when another websocket used
// it first or a join replaced it. The record's compare-and-set decides
// between racing websockets.
func (s *Server) useSocketToken(ctx context.Context, id, tokenID, connID string) error {
	_, err := s.sessions.Update(ctx, id, func(x *session.Session) error {
		if err := checkSocketToken(x, tokenID); err != nil {
			return err
		}
		t := *x.Socket
		t.UsedAt, t.UsedBy = time.Now().UTC(), connID
		x.Socket = &t
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
