package session

import (
	"slices"
	"strings"
	"time"
)

// Roles of a session's connections (docs/peers.md). Control moves between
// connections; a connection's grant, what it joined with, decides what it
// may do about it.
const (
	// RoleController: the connection whose input the app gets. At most
	// one connection holds it.
	RoleController = "controller"
	// RoleViewer: a connection that watches; its input is ignored.
	RoleViewer = "viewer"
	// RoleOwner is a grant, not a role a connection holds: the join of the
	// session's own API token. An owner joins taking control and may hand
	// it to anyone or take it back.
	RoleOwner = "owner"
)

// Peer is one connected client of a session, as the record lists it.
type Peer struct {
	// ID is the connection id (the signaling subject's last token).
	ID string `json:"id"`
	// Role is RoleController or RoleViewer.
	Role string `json:"role"`
	// Owner marks a connection that joined with the session's API token.
	Owner    bool      `json:"owner,omitempty"`
	JoinedAt time.Time `json:"joined_at"`
	Codec    string    `json:"codec,omitempty"`
}

// Controller is the id of the peer holding control, or "".
func Controller(peers []Peer) string {
	for _, p := range peers {
		if p.Role == RoleController {
			return p.ID
		}
	}
	return ""
}

// ShareLink is a link that lets whoever holds it join a session with a
// role (docs/peers.md). The record keeps its id and bounds; the token is
// signed over the id and expiry and never stored.
type ShareLink struct {
	ID        string    `json:"id"`
	Role      string    `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	// MaxUses is how many joins it allows; 0: any number.
	MaxUses   int       `json:"max_uses"`
	Uses      int       `json:"uses"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// Live reports whether the link still admits a join at now.
func (l ShareLink) Live(now time.Time) bool {
	return l.RevokedAt.IsZero() && now.Before(l.ExpiresAt) && (l.MaxUses == 0 || l.Uses < l.MaxUses)
}

// Connection ids carry the grant they were opened with, so the streamer
// knows what a connection may do from the subject its frames arrive on,
// without reading the record on the way to the first frame. Only
// gateways name connections (a websocket's id is made at its upgrade; a
// NATS client's is signed, auth.Tokens.NATSConnID), so the prefix is as
// trustworthy as the subject.
const (
	connPrefixOwner      = "o-"
	connPrefixController = "c-"
	connPrefixViewer     = "v-"
)

// ConnPrefix is the prefix of a connection id opened with grant (RoleOwner,
// RoleController or RoleViewer); "" for anything else.
func ConnPrefix(grant string) string {
	switch grant {
	case RoleOwner:
		return connPrefixOwner
	case RoleController:
		return connPrefixController
	case RoleViewer:
		return connPrefixViewer
	}
	return ""
}

// ConnGrant is the grant connection id connID was opened with. An id
// without a grant prefix is from a gateway older than grants, which only
// opened owners' connections.
func ConnGrant(connID string) string {
	switch {
	case strings.HasPrefix(connID, connPrefixController):
		return RoleController
	case strings.HasPrefix(connID, connPrefixViewer):
		return RoleViewer
	}
	return RoleOwner
}

// ValidShareRole reports whether a share link may grant role.
func ValidShareRole(role string) bool {
	return role == RoleViewer || role == RoleController
}

// peersChange is the lifecycle event of a change of the peers from
// before to after, or "" when they did not change in a way that has one.
func peersChange(before, after []Peer) string {
	if Controller(before) != Controller(after) && len(before) == len(after) {
		return EventControlChanged
	}
	ids := func(ps []Peer) []string {
		out := make([]string, len(ps))
		for i, p := range ps {
			out[i] = p.ID
		}
		slices.Sort(out)
		return out
	}
	b, a := ids(before), ids(after)
	switch {
	case len(a) > len(b):
		return EventPeerJoined
	case len(a) < len(b):
		return EventPeerLeft
	case !slices.Equal(a, b):
		return EventPeerJoined // one left and another joined in one write
	case Controller(before) != Controller(after):
		return EventControlChanged
	}
	return ""
}
