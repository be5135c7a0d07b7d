package gateway

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/micro"

	"github.com/streamstack/streamstack/internal/version"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

// ServiceName is the NATS micro service name (nats micro ls shows it).
const ServiceName = "streamstack"

// Signaling tells a NATS client where to exchange the signaling frames of a
// fresh connection: publish to ToStreamer, read ToClient from Stream.
type Signaling struct {
	Stream     string `json:"stream"`
	ConnID     string `json:"conn_id"`
	ToStreamer string `json:"to_streamer"`
	ToClient   string `json:"to_client"`
}

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

// startService registers the session operations as a NATS micro service,
// in a queue group so every gateway instance shares the load.
func (s *Server) startService() (micro.Service, error) {
	svc, err := micro.AddService(s.nc, micro.Config{
		Name:        ServiceName,
		Version:     strings.TrimSuffix(version.Version, "-dev") + suffixIfDev(),
		Description: "streamstack sessions: the HTTP API's operations with the same JSON bodies",
	})
	if err != nil {
		return nil, fmt.Errorf("gateway: micro service: %w", err)
	}
	g := svc.AddGroup(subjects.API + ".sessions")
	endpoints := []struct {
		name string
		fn   func(ctx context.Context, data []byte) (any, error)
	}{
		{"create", s.serviceCreate},
		{"get", s.serviceGet},
		{"list", s.serviceList},
		{"join", s.serviceJoin},
		{"delete", s.serviceDelete},
	}
	for _, e := range endpoints {
		fn := e.fn
		err := g.AddEndpoint(e.name, micro.HandlerFunc(func(req micro.Request) { s.serve(req, fn) }),
			micro.WithEndpointSubject(e.name))
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
func (s *Server) serve(req micro.Request, fn func(ctx context.Context, data []byte) (any, error)) {
	if int64(len(req.Data())) > s.cfg.MaxBodyBytes {
		s.serviceError(req, fmt.Errorf("%w: body over %d bytes", ErrBodyTooLarge, s.cfg.MaxBodyBytes))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RequestTimeout)
	defer cancel()
	out, err := fn(ctx, req.Data())
	if err != nil {
		s.serviceError(req, err)
		return
	}
	status := 200
	if strings.HasSuffix(req.Subject(), ".create") {
		status = 201
	}
	_ = req.RespondJSON(Response{Type: "sync", Status: "success", StatusCode: status, Metadata: out})
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

func (s *Server) withSignaling(sess SessionWithURL) (ServiceSession, error) {
	conn := strings.ToLower(rand.Text())
	to, err := subjects.Signal(sess.ID, subjects.ToStreamer, conn)
	if err != nil {
		return ServiceSession{}, err
	}
	from, _ := subjects.Signal(sess.ID, subjects.ToClient, conn)
	return ServiceSession{SessionWithURL: sess, Signaling: Signaling{
		Stream: subjects.StreamSignal, ConnID: conn, ToStreamer: to, ToClient: from,
	}}, nil
}

// serviceURL is the websocket URL when a public URL is configured; NATS
// requests have no Host header to derive it from.
func (s *Server) serviceURL(sess *session.Session) SessionWithURL {
	return SessionWithURL{Session: sess, URL: s.socketURLFor(s.publicBase, sess), StunServers: s.stunServers(sess.ID)}
}

func (s *Server) serviceCreate(ctx context.Context, data []byte) (any, error) {
	var req CreateRequest
	if err := decodeJSON(data, &req, false); err != nil {
		return nil, err
	}
	sess, err := s.createSession(ctx, req, "")
	if err != nil {
		return nil, err
	}
	return s.withSignaling(s.serviceURL(sess))
}

func (s *Server) serviceGet(ctx context.Context, data []byte) (any, error) {
	var req idRequest
	if err := decodeJSON(data, &req, false); err != nil {
		return nil, err
	}
	return s.getSession(ctx, req.ID)
}

func (s *Server) serviceList(ctx context.Context, data []byte) (any, error) {
	var q ListQuery
	if err := decodeJSON(data, &q, true); err != nil {
		return nil, err
	}
	return s.listSessions(ctx, q)
}

func (s *Server) serviceJoin(ctx context.Context, data []byte) (any, error) {
	var req idRequest
	if err := decodeJSON(data, &req, false); err != nil {
		return nil, err
	}
	sess, err := s.joinSession(ctx, req.ID)
	if err != nil {
		return nil, err
	}
	return s.withSignaling(s.serviceURL(sess))
}

func (s *Server) serviceDelete(ctx context.Context, data []byte) (any, error) {
	var req idRequest
	if err := decodeJSON(data, &req, false); err != nil {
		return nil, err
	}
	return s.deleteSession(ctx, req.ID)
}
