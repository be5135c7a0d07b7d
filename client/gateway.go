package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/streamstack/streamstack/session"
)

// Gateway calls a streamstack (or Anbox Cloud Stream Gateway compatible)
// HTTP API.
type Gateway struct {
	// BaseURL like http://localhost:8080.
	BaseURL string
	// Token is sent as "Authorization: Macaroon root=<token>", the way the
	// Anbox SDK sends it.
	Token string
	HTTP  *http.Client
}

// StunServer is one ICE server as the API lists it.
type StunServer struct {
	URLs     []string `json:"urls"`
	Username string   `json:"username,omitempty"`
	Password string   `json:"password,omitempty"`
}

// SessionInfo is a session as the API shows it.
type SessionInfo struct {
	session.Session
	URL         string       `json:"url"`
	StunServers []StunServer `json:"stun_servers"`
	// Stats is the streamer's latest report (Get only).
	Stats json.RawMessage `json:"stats,omitempty"`
}

// CreateRequest is the body of POST /1.0/sessions.
type CreateRequest struct {
	App         string          `json:"app"`
	Region      string          `json:"region,omitempty"`
	Joinable    bool            `json:"joinable"`
	IdleTimeMin int             `json:"idle_time_min,omitempty"`
	Screen      *session.Screen `json:"screen,omitempty"`
	ExtraData   any             `json:"extra_data,omitempty"`
	// VideoCodecs are the codecs this client decodes, in its order (VP8,
	// H264); empty: any. The session is placed on an encoder of one of
	// them and offers only those.
	VideoCodecs []string `json:"video_codecs,omitempty"`
	// AllowViewers lets several peers stream the session at once
	// (docs/peers.md).
	AllowViewers bool `json:"allow_viewers,omitempty"`
}

// APIError is an error answer of the API.
type APIError struct {
	StatusCode int
	Message    string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("gateway: %d: %s", e.StatusCode, e.Message)
}

// ErrGateway wraps transport-level failures talking to the gateway.
var ErrGateway = errors.New("gateway request failed")

type envelope struct {
	Type       string          `json:"type"`
	Status     string          `json:"status"`
	StatusCode int             `json:"status_code"`
	Error      string          `json:"error"`
	Metadata   json.RawMessage `json:"metadata"`
}

func (g *Gateway) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(g.BaseURL, "/")+path, rd)
	if err != nil {
		return err
	}
	if g.Token != "" { // a resume (URL-only client) has none
		req.Header.Set("Authorization", "Macaroon root="+g.Token)
	}
	req.Header.Set("Content-Type", "application/json")
	hc := g.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrGateway, err)
	}
	defer resp.Body.Close()
	var env envelope
	if err := json.NewDecoder(io.LimitReader(resp.Body, 16<<20)).Decode(&env); err != nil {
		return fmt.Errorf("%w: %s %s: HTTP %d with undecodable body: %w", ErrGateway, method, path, resp.StatusCode, err)
	}
	if resp.StatusCode >= 300 || env.Status != "success" {
		return &APIError{StatusCode: resp.StatusCode, Message: env.Error}
	}
	if out != nil {
		return json.Unmarshal(env.Metadata, out)
	}
	return nil
}

// Create starts a session.
func (g *Gateway) Create(ctx context.Context, req CreateRequest) (*SessionInfo, error) {
	var s SessionInfo
	if err := g.do(ctx, http.MethodPost, "/1.0/sessions", req, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Get reads one session.
func (g *Gateway) Get(ctx context.Context, id string) (*SessionInfo, error) {
	var s SessionInfo
	if err := g.do(ctx, http.MethodGet, "/1.0/sessions/"+url.PathEscape(id), nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Join asks for a fresh websocket URL of a running session.
func (g *Gateway) Join(ctx context.Context, id string, screen session.Screen) (*SessionInfo, error) {
	var s SessionInfo
	body := map[string]any{"screen": map[string]int{"width": screen.Width, "height": screen.Height}}
	if err := g.do(ctx, http.MethodPost, "/1.0/sessions/"+url.PathEscape(id)+"/join", body, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// Delete ends a session.
func (g *Gateway) Delete(ctx context.Context, id string) error {
	return g.do(ctx, http.MethodDelete, "/1.0/sessions/"+url.PathEscape(id), nil, nil)
}

// ShareRequest is the body of POST /1.0/sessions/{id}/share.
type ShareRequest struct {
	Role      string `json:"role,omitempty"`       // viewer (default) or controller
	ExpiresIn int64  `json:"expires_in,omitempty"` // seconds; 0: the gateway's default
	MaxUses   int    `json:"max_uses,omitempty"`   // 0: any number
}

// Share is a share link; Token and URL only in Share's answer.
type Share struct {
	session.ShareLink
	Token string `json:"token,omitempty"`
	URL   string `json:"url,omitempty"`
}

// Share makes a share link of session id (docs/peers.md).
func (g *Gateway) Share(ctx context.Context, id string, req ShareRequest) (*Share, error) {
	var sh Share
	if err := g.do(ctx, http.MethodPost, "/1.0/sessions/"+url.PathEscape(id)+"/share", req, &sh); err != nil {
		return nil, err
	}
	return &sh, nil
}

// Shares lists session id's links, without their tokens.
func (g *Gateway) Shares(ctx context.Context, id string) ([]Share, error) {
	var out []Share
	if err := g.do(ctx, http.MethodGet, "/1.0/sessions/"+url.PathEscape(id)+"/share", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Unshare revokes link shareID of session id.
func (g *Gateway) Unshare(ctx context.Context, id, shareID string) error {
	return g.do(ctx, http.MethodDelete, "/1.0/sessions/"+url.PathEscape(id)+"/share/"+url.PathEscape(shareID), nil, nil)
}

// JoinShare joins session id with a share link's token instead of an API
// token: the answer's URL opens a websocket with the link's role.
func (g *Gateway) JoinShare(ctx context.Context, id, shareToken string, screen session.Screen) (*SessionInfo, error) {
	h := *g
	h.Token = shareToken
	return h.Join(ctx, id, screen)
}
