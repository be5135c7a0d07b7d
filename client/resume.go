package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

// A client that holds only a session URL (no API token, so no join) fails
// over with a resume credential: its websocket, opened with ?resume=1,
// gets {"type":"gateway::resume","token":…} from the gateway before any
// frame of the streamer's, and Gateway.Resume trades it, once, through
// any gateway, for a fresh session URL. It never travels in a URL, so a
// leaked used URL resumes nothing.

// typeResume is the gateway's resume frame type.
const typeResume = "gateway::resume"

// resumeCredential reads a gateway's resume frame.
func resumeCredential(frame []byte) (string, bool) {
	if !strings.Contains(string(frame), typeResume) {
		return "", false // the streamer's frames, without decoding them twice
	}
	var f struct {
		Type  string `json:"type"`
		Token string `json:"token"`
	}
	if json.Unmarshal(frame, &f) != nil || f.Type != typeResume || f.Token == "" {
		return "", false
	}
	return f.Token, true
}

// WithResume is session URL u asking its gateway for a resume credential
// (?resume=1).
func WithResume(u string) string {
	pu, err := url.Parse(u)
	if err != nil {
		return u
	}
	q := pu.Query()
	q.Set("resume", "1")
	pu.RawQuery = q.Encode()
	return pu.String()
}

// ResumeCredential is the resume credential the gateway sent this peer's
// websocket (opened WithResume), or "".
func (p *Peer) ResumeCredential() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.resume
}

// Resume trades a resume credential for a fresh URL of session id; it
// needs no API token (Token may be empty).
func (g *Gateway) Resume(ctx context.Context, id, credential string) (*SessionInfo, error) {
	var s SessionInfo
	body := map[string]string{"token": credential}
	if err := g.do(ctx, http.MethodPost, "/1.0/sessions/"+url.PathEscape(id)+"/resume", body, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
