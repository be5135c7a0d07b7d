package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/session"
)

// Share links (docs/peers.md): a link lets whoever holds it join one
// session with one role. The record keeps each link's id, role, expiry and
// uses; its token is signed over the id and expiry (auth.ShareToken), shown
// once, and good only on that session's join, where it mints a websocket
// URL of its role (a guest token, session.Session.Guests).

// ErrShareRefused: a join through a share link that expired, was revoked
// or was used up.
var ErrShareRefused = errors.New("share link refused")

// ShareRequest is the body of POST /1.0/sessions/{id}/share.
type ShareRequest struct {
	// Role is what the link grants: viewer (the default) or controller.
	Role string `json:"role"`
	// ExpiresIn is the link's life in seconds; 0: Config.ShareLinkTTL.
	ExpiresIn int64 `json:"expires_in"`
	// MaxUses is how many joins it allows; 0: any number.
	MaxUses int `json:"max_uses"`
}

// Share is a share link as the API answers it: Token and URL only in the
// answer of its create.
type Share struct {
	session.ShareLink
	Token string `json:"token,omitempty"`
	URL   string `json:"url,omitempty"`
}

// maxShareUses bounds a link's max_uses.
const maxShareUses = 10000

func (s *Server) checkShareRequest(req *ShareRequest) error {
	if req.Role == "" {
		req.Role = session.RoleViewer
	}
	if !session.ValidShareRole(req.Role) {
		return badRequest("role: %q, want viewer or controller", truncate(req.Role, 32))
	}
	if req.ExpiresIn == 0 {
		req.ExpiresIn = int64(s.cfg.ShareLinkTTL / time.Second)
	}
	if req.ExpiresIn < 1 || req.ExpiresIn > int64(s.cfg.ShareLinkMaxTTL/time.Second) {
		return badRequest("expires_in: %d seconds, want 1 to %d (--share-link-max-ttl)", req.ExpiresIn, int64(s.cfg.ShareLinkMaxTTL/time.Second))
	}
	if req.MaxUses < 0 || req.MaxUses > maxShareUses {
		return badRequest("max_uses: %d, want 0 (any number) to %d", req.MaxUses, maxShareUses)
	}
	return nil
}

func (s *Server) handleShareCreate(w http.ResponseWriter, r *http.Request) {
	var req ShareRequest
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &req, true); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.checkOwnRequest(r, r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	share, err := s.createShare(ctx, r.PathValue("id"), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	share.URL = s.shareURL(r, r.PathValue("id"), share.Token)
	writeSync(w, http.StatusCreated, share)
}

// createShare records a new link of session id and signs its token.
func (s *Server) createShare(ctx context.Context, id string, req ShareRequest) (*Share, error) {
	if err := s.checkShareRequest(&req); err != nil {
		return nil, err
	}
	now := time.Now().UTC()
	link := session.ShareLink{ID: "sh-" + auth.NewSocketTokenID(), Role: req.Role, CreatedAt: now,
		ExpiresAt: now.Add(time.Duration(req.ExpiresIn) * time.Second).Truncate(time.Second), MaxUses: req.MaxUses}
	_, err := s.sessions.Update(ctx, id, func(x *session.Session) error {
		if req.Role == session.RoleViewer && !x.AllowViewers {
			return badRequest("role: a viewer link needs a session created with allow_viewers; a controller link takes the session over")
		}
		// Expired links go; revoked ones stay listed until they expire,
		// the oldest going first past four times the cap.
		x.Shares = slices.DeleteFunc(x.Shares, func(l session.ShareLink) bool { return !now.Before(l.ExpiresAt) })
		live := 0
		for _, l := range x.Shares {
			if l.RevokedAt.IsZero() {
				live++
			}
		}
		if live >= s.cfg.MaxShareLinks {
			return fmt.Errorf("%w: session %s has %d share links (--share-links-max): revoke one first", ErrQuota, id, live)
		}
		for len(x.Shares) >= 4*s.cfg.MaxShareLinks {
			i := slices.IndexFunc(x.Shares, func(l session.ShareLink) bool { return !l.RevokedAt.IsZero() })
			x.Shares = slices.Delete(x.Shares, i, i+1)
		}
		x.Shares = append(x.Shares, link)
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("share link created", "session", id, "share", link.ID, "role", link.Role,
		"expires_at", link.ExpiresAt, "max_uses", link.MaxUses)
	return &Share{ShareLink: link, Token: s.tokens.ShareToken(id, link.ID, link.ExpiresAt)}, nil
}

// shareURL opens the web client straight into the session with the
// link's token. The token goes in the fragment, which browsers send to no
// server and put in no Referer.
func (s *Server) shareURL(r *http.Request, id, token string) string {
	base := s.publicBase
	if base == "" {
		base = s.requestBase(r)
	}
	return s.shareURLFor(base, id, token)
}

// shareURLFor is shareURL under a websocket base (ws[s]://host).
func (s *Server) shareURLFor(base, id, token string) string {
	if base == "" {
		return ""
	}
	u, err := url.Parse(base)
	if err != nil {
		return ""
	}
	switch u.Scheme {
	case "wss":
		u.Scheme = "https"
	case "ws":
		u.Scheme = "http"
	}
	u.Path, u.RawQuery = "/", "session="+url.QueryEscape(id)
	u.Fragment = "share=" + token
	return u.String()
}

func (s *Server) handleShareList(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	out, err := s.listShares(ctx, tokenOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeSync(w, http.StatusOK, out)
}

// listShares answers session id's links that have not expired, without
// tokens.
func (s *Server) listShares(ctx context.Context, caller auth.Info, id string) ([]Share, error) {
	sess, _, err := s.sessions.Get(ctx, id)
	if err == nil {
		err = ownSession(caller, sess)
	}
	if err != nil {
		return nil, err
	}
	now := time.Now()
	out := []Share{}
	for _, l := range sess.Shares {
		if now.Before(l.ExpiresAt) {
			out = append(out, Share{ShareLink: l})
		}
	}
	return out, nil
}

func (s *Server) handleShareRevoke(w http.ResponseWriter, r *http.Request) {
	if err := s.checkOwnRequest(r, r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	out, err := s.revokeShare(ctx, r.PathValue("id"), r.PathValue("share"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeSync(w, http.StatusOK, out)
}

// revokeShare revokes link shareID of session id: it admits no join from
// now on, and the URLs its joins answered that opened nothing yet open
// nothing. Peers that joined through it stay.
func (s *Server) revokeShare(ctx context.Context, id, shareID string) (*Share, error) {
	var revoked session.ShareLink
	_, err := s.sessions.Update(ctx, id, func(x *session.Session) error {
		i := slices.IndexFunc(x.Shares, func(l session.ShareLink) bool { return l.ID == shareID })
		if i < 0 {
			return fmt.Errorf("%w: share link %q of session %s", session.ErrNotFound, truncate(shareID, 64), id)
		}
		if x.Shares[i].RevokedAt.IsZero() {
			x.Shares[i].RevokedAt = time.Now().UTC()
		}
		revoked = x.Shares[i]
		x.Guests = slices.DeleteFunc(x.Guests, func(g session.SocketToken) bool { return g.Share == shareID && g.UsedAt.IsZero() })
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("share link revoked", "session", id, "share", shareID)
	return &Share{ShareLink: revoked}, nil
}

// checkShare verifies a share token for session id: its link's id, or
// ErrShareRefused for an expired one, auth.ErrNotShare for a token that
// is no share token.
func (s *Server) checkShare(token, id string) (string, error) {
	shareID, err := s.tokens.VerifyShare(token, id, time.Now())
	if errors.Is(err, auth.ErrExpired) {
		return "", fmt.Errorf("%w: share link expired", ErrShareRefused)
	}
	return shareID, err
}

// handleJoinRoute serves POST .../join for both credentials: a share
// link's token joins with the link's role; anything else must be an API
// token that may write to the session.
func (s *Server) handleJoinRoute(w http.ResponseWriter, r *http.Request) {
	if tok := apiToken(r); tok != "" {
		shareID, err := s.checkShare(tok, r.PathValue("id"))
		if !errors.Is(err, auth.ErrNotShare) {
			if err != nil {
				s.fail(w, r, err)
				return
			}
			s.handleShareJoin(w, r, shareID)
			return
		}
	}
	s.requireToken(writeAccess, s.handleJoin)(w, r)
}

func (s *Server) handleShareJoin(w http.ResponseWriter, r *http.Request, shareID string) {
	var req JoinRequest
	if err := decodeBody(w, r, s.cfg.MaxBodyBytes, &req, true); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := s.requestCtx(r)
	defer cancel()
	sess, guest, err := s.joinShare(ctx, r.PathValue("id"), shareID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	base := s.publicBase
	if base == "" {
		base = s.requestBase(r)
	}
	writeSync(w, http.StatusOK, SessionWithURL{Session: guestView(sess), URL: s.guestURL(base, sess.ID, guest),
		StunServers: s.stunServers(sess.ID)})
}

// joinShare counts a use of link shareID and records a guest token of its
// role: the websocket URL the join answers.
func (s *Server) joinShare(ctx context.Context, id, shareID string) (*session.Session, *session.SocketToken, error) {
	var guest session.SocketToken
	sess, err := s.sessions.Update(ctx, id, func(x *session.Session) error {
		i := slices.IndexFunc(x.Shares, func(l session.ShareLink) bool { return l.ID == shareID })
		now := time.Now().UTC()
		switch {
		case i < 0 || !x.Shares[i].RevokedAt.IsZero():
			return fmt.Errorf("%w: share link revoked", ErrShareRefused)
		case !now.Before(x.Shares[i].ExpiresAt):
			return fmt.Errorf("%w: share link expired", ErrShareRefused)
		case !x.Shares[i].Live(now):
			return fmt.Errorf("%w: share link used up (%d of %d uses)", ErrShareRefused, x.Shares[i].Uses, x.Shares[i].MaxUses)
		}
		x.Shares[i].Uses++
		guest = *newSocketToken()
		guest.Role, guest.Share = x.Shares[i].Role, shareID
		x.Guests = append(x.Guests, guest)
		if n := len(x.Guests) - s.cfg.MaxGuestURLs; n > 0 {
			x.Guests = slices.Delete(x.Guests, 0, n) // the oldest URLs go
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	s.log.Info("session joined through a share link", "session", id, "share", shareID, "role", guest.Role)
	return sess, &guest, nil
}

// guestView is the record as a share link's joiner sees it: what a client
// needs to stream (screen, status, peers, codec), without what only the
// session's owner may know: the API token that created it, its links,
// and the ids of the owner's and other guests' websocket tokens.
func guestView(sess *session.Session) *session.Session {
	v := *sess
	v.CreatedBy, v.Socket, v.Guests, v.Shares = "", nil, nil, nil
	return &v
}

// guestURL is the websocket URL of guest token t.
func (s *Server) guestURL(base, id string, t *session.SocketToken) string {
	if base == "" {
		return ""
	}
	token := s.tokens.SessionToken(id, t.ID, t.IssuedAt.Add(s.cfg.SessionTokenTTL))
	return base + pathSessions + "/" + url.PathEscape(id) + "/sockets/client?token=" + url.QueryEscape(token)
}
