package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/micro"

	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/internal/version"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

// ServiceName is the NATS micro service name (nats micro ls shows it).
const ServiceName = "streamstack"

// ServiceSession is the answer of create and join over NATS: the record,
// the signaling subjects, and the websocket URL when the gateway knows its
// public URL.
type ServiceSession struct {
	SessionWithURL
	Signaling Signaling `json:"signaling"`
}

// idRequest is the body of get, join and delete over NATS.
type idRequest struct {
	ID string `json:"id"`
}

// serviceHandler is one endpoint: caller is the API token the request
// came under (its id is the subject's token after subjects.API, which the
// embedded server lets a token client publish under only with its own),
// rest the subject's tokens after the endpoint's name.
type serviceHandler func(ctx context.Context, caller auth.Info, rest []string, data []byte) (any, error)

// startService registers the session operations as a NATS micro service,
// in a queue group so every gateway instance shares the load. Every
// endpoint's subject starts with subjects.ClientAPI(<token id>).
func (s *Server) startService() (micro.Service, error) {
	svc, err := micro.AddService(s.nc, micro.Config{
		Name:        ServiceName,
		Version:     strings.TrimSuffix(version.Version, "-dev") + suffixIfDev(),
		Description: "streamstack sessions: the HTTP API's operations with the same JSON bodies, under the caller's token id",
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: micro service: %w", err)
	}
	g := svc.AddGroup(subjects.API + ".*")
	endpoints := []struct {
		name, subject string
		write         bool
		fn            serviceHandler
	}{
		{"create", "sessions.create", true, s.serviceCreate},
		{"get", "sessions.get", false, s.serviceGet},
		{"list", "sessions.list", false, s.serviceList},
		// join checks the scope itself: a share token needs none.
		{"join", "sessions.join", false, s.serviceJoin},
		{"share", "sessions.share", true, s.serviceShare},
		{"shares", "sessions.shares", false, s.serviceShares},
		{"unshare", "sessions.unshare", true, s.serviceUnshare},
		{"delete", "sessions.delete", true, s.serviceDelete},
		{"signal", subjects.EndpointSignal + ".*.*", true, s.serviceSignal},
		{"events", subjects.EndpointEvents, false, s.serviceEvents},
	}
	for _, e := range endpoints {
		fn, write := e.fn, e.write
		err := g.AddEndpoint(e.name, micro.HandlerFunc(func(req micro.Request) { s.serve(req, write, fn) }),
			micro.WithEndpointSubject(e.subject))
		if err != nil {
			_ = svc.Stop()
			return nil, fmt.Errorf("gateway: endpoint %s: %w", e.name, err)
		}
	}
	return svc, nil
}

func suffixIfDev() string {
	if strings.HasSuffix(version.Version, "-dev") {
		return "-dev"
	}
	return ""
}

// serve runs one request and answers in the HTTP API's envelope; errors
// also carry micro's error headers (the HTTP status as the code).
func (s *Server) serve(req micro.Request, write bool, fn serviceHandler) {
	if int64(len(req.Data())) > s.cfg.MaxBodyBytes {
		s.serviceError(req, fmt.Errorf("%w: body over %d bytes", ErrBodyTooLarge, s.cfg.MaxBodyBytes))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
	defer cancel()
	caller, rest, err := s.serviceCaller(ctx, req.Subject(), write)
	if err != nil {
		s.serviceError(req, err)
		return
	}
	out, err := fn(ctx, caller, rest, req.Data())
	if err != nil {
		s.serviceError(req, err)
		return
	}
	status := 200
	if strings.HasSuffix(req.Subject(), ".create") {
		status = 201
	}
	resp := Response{Type: "sync", Status: "success", StatusCode: status, Metadata: out}
	if p, ok := out.(listPage); ok {
		resp.Metadata, resp.Next = p.items, p.next
	}
	_ = req.RespondJSON(resp)
}

func (s *Server) serviceError(req micro.Request, err error) {
	status := statusOf(err)
	msg := err.Error()
	if status >= 500 {
		s.log.Error("service request failed", "subject", req.Subject(), "status", status, "err", err)
		if status != 503 {
			msg = "internal error"
		}
	}
	body, _ := json.Marshal(ErrorResponse{Type: "error", Status: "error", StatusCode: status, Error: msg})
	_ = req.Error(strconv.Itoa(status), msg, body)
}

// decodeJSON decodes a request body; an empty body is allowed when optional.
func decodeJSON(data []byte, v any, optional bool) error {
	if len(strings.TrimSpace(string(data))) == 0 {
		if optional {
			return nil
		}
		return badRequest("a JSON body is required")
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	if err := dec.Decode(v); err != nil {
		return badRequest("malformed JSON body: %v", err)
	}
	return nil
}

// serviceURL is the websocket URL when a public URL is configured; NATS
// requests have no Host header to derive it from.
func (s *Server) serviceURL(sess *session.Session) SessionWithURL {
	return SessionWithURL{Session: sess, URL: s.socketURLFor(s.publicBase, sess), StunServers: s.stunServers(sess.ID)}
}

func (s *Server) serviceCreate(ctx context.Context, caller auth.Info, _ []string, data []byte) (any, error) {
	var req CreateRequest
	if err := decodeJSON(data, &req, false); err != nil {
		return nil, err
	}
	if err := s.checkCreate(ctx, caller, ""); err != nil {
		return nil, err
	}
	sess, err := s.createSession(ctx, req, caller.ID)
	if err != nil {
		return nil, err
	}
	return s.withSignaling(ctx, caller, s.serviceURL(sess))
}

func (s *Server) serviceGet(ctx context.Context, caller auth.Info, _ []string, data []byte) (any, error) {
	var req idRequest
	if err := decodeJSON(data, &req, false); err != nil {
		return nil, err
	}
	if err := s.checkOwn(ctx, caller, req.ID); err != nil {
		return nil, err
	}
	return s.getSession(ctx, req.ID)
}

func (s *Server) serviceList(ctx context.Context, caller auth.Info, _ []string, data []byte) (any, error) {
	var q ListQuery
	if err := decodeJSON(data, &q, true); err != nil {
		return nil, err
	}
	if caller.Scoped() == auth.ScopeSessions {
		q.CreatedBy = caller.ID
	}
	return s.listSessions(ctx, q)
}

// joinRequest is the body of sessions.join: Share, when given, is a share
// link's token, which joins with its role (docs/peers.md).
type joinRequest struct {
	ID    string `json:"id"`
	Share string `json:"share,omitempty"`
}

func (s *Server) serviceJoin(ctx context.Context, caller auth.Info, _ []string, data []byte) (any, error) {
	var req joinRequest
	if err := decodeJSON(data, &req, false); err != nil {
		return nil, err
	}
	if req.Share != "" {
		shareID, err := s.checkShare(req.Share, req.ID)
		if errors.Is(err, auth.ErrNotShare) {
			return nil, fmt.Errorf("%w: share is no share link's token", auth.ErrUnauthorized)
		}
		if err != nil {
			return nil, err
		}
		sess, guest, err := s.joinShare(ctx, req.ID, shareID)
		if err != nil {
			return nil, err
		}
		return s.withSignalingAs(ctx, caller, SessionWithURL{Session: guestView(sess),
			URL: s.guestURL(s.publicBase, sess.ID, guest), StunServers: s.stunServers(sess.ID)}, guest.Role)
	}
	if caller.Scoped() == auth.ScopeRead {
		return nil, fmt.Errorf("%w: token %s is read-only", auth.ErrForbidden, caller.ID)
	}
	if err := s.checkOwn(ctx, caller, req.ID); err != nil {
		return nil, err
	}
	sess, err := s.joinSession(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	return s.withSignaling(ctx, caller, s.serviceURL(sess))
}

// shareRequest is the body of sessions.share.
type shareRequest struct {
	ID string `json:"id"`
	ShareRequest
}

func (s *Server) serviceShare(ctx context.Context, caller auth.Info, _ []string, data []byte) (any, error) {
	var req shareRequest
	if err := decodeJSON(data, &req, false); err != nil {
		return nil, err
	}
	if err := s.checkOwn(ctx, caller, req.ID); err != nil {
		return nil, err
	}
	share, err := s.createShare(ctx, req.ID, req.ShareRequest)
	if err != nil {
		return nil, err
	}
	if s.publicBase != "" {
		share.URL = s.shareURLFor(s.publicBase, req.ID, share.Token)
	}
	return share, nil
}

func (s *Server) serviceShares(ctx context.Context, caller auth.Info, _ []string, data []byte) (any, error) {
	var req idRequest
	if err := decodeJSON(data, &req, false); err != nil {
		return nil, err
	}
	return s.listShares(ctx, caller, req.ID)
}

// unshareRequest is the body of sessions.unshare.
type unshareRequest struct {
	ID    string `json:"id"`
	Share string `json:"share"`
}

func (s *Server) serviceUnshare(ctx context.Context, caller auth.Info, _ []string, data []byte) (any, error) {
	var req unshareRequest
	if err := decodeJSON(data, &req, false); err != nil {
		return nil, err
	}
	if err := s.checkOwn(ctx, caller, req.ID); err != nil {
		return nil, err
	}
	return s.revokeShare(ctx, req.ID, req.Share)
}

func (s *Server) serviceDelete(ctx context.Context, caller auth.Info, _ []string, data []byte) (any, error) {
	var req idRequest
	if err := decodeJSON(data, &req, false); err != nil {
		return nil, err
	}
	if err := s.checkOwn(ctx, caller, req.ID); err != nil {
		return nil, err
	}
	return s.deleteSession(ctx, req.ID)
}
