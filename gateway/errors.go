package gateway

import (
	"context"
	"errors"
	"net/http"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/session"
)

var (
	// ErrConfig: a Config field is out of range.
	ErrConfig = errors.New("gateway: invalid config")
	// ErrDeps: a required dependency is missing from Deps.
	ErrDeps = errors.New("gateway: missing dependency")

	// ErrBadRequest: the request body or a parameter is malformed or out of
	// range; the message names the field.
	ErrBadRequest = errors.New("bad request")
	// ErrBodyTooLarge: the request body is over Config.MaxBodyBytes.
	ErrBodyTooLarge = errors.New("request body too large")
	// ErrBodyTimeout: the request body did not arrive within
	// Config.HTTPReadTimeout.
	ErrBodyTimeout = errors.New("request timeout")
	// ErrRouteNotFound: no route has that path.
	ErrRouteNotFound = errors.New("not found")
	// ErrMethodNotAllowed: the path exists, the method does not.
	ErrMethodNotAllowed = errors.New("method not allowed")
	// ErrNoCapacity: no live agent can take the session.
	ErrNoCapacity = errors.New("no capacity")
	// ErrUnavailable: NATS or JetStream cannot be reached.
	ErrUnavailable = errors.New("service unavailable")
	// ErrForbiddenOrigin: a browser request from an origin that
	// Config.AllowedOrigins does not allow.
	ErrForbiddenOrigin = errors.New("forbidden")
	// ErrTooManySockets: the session has Config.WSMaxPerSession signaling
	// websockets open already.
	ErrTooManySockets = errors.New("too many websockets")
	// ErrSocketTokenUsed: a session URL whose token a websocket already
	// used, or that a later join replaced; a join answers a new one.
	ErrSocketTokenUsed = errors.New("session URL already used")
	// ErrNotWebsocket: a request to a websocket URL that is no websocket
	// handshake.
	ErrNotWebsocket = errors.New("upgrade required")
	// ErrQuota: a create over a quota (Config.CreatesPerIPPerSecond,
	// CreatesPerTokenPerMinute, MaxActiveSessionsPerToken).
	ErrQuota = errors.New("quota exceeded")
)

// statusTable maps sentinel errors to HTTP statuses: the one place where an
// error becomes a status. The first match wins.
var statusTable = []struct {
	err    error
	status int
}{
	{ErrBadRequest, http.StatusBadRequest},
	{session.ErrInvalid, http.StatusBadRequest},
	{auth.ErrUnauthorized, http.StatusUnauthorized},
	{auth.ErrWrongSession, http.StatusUnauthorized},
	{ErrRouteNotFound, http.StatusNotFound},
	{session.ErrNotFound, http.StatusNotFound},
	{apps.ErrUnknown, http.StatusNotFound},
	{ErrMethodNotAllowed, http.StatusMethodNotAllowed},
	{ErrForbiddenOrigin, http.StatusForbidden},
	{auth.ErrForbidden, http.StatusForbidden},
	{ErrShareRefused, http.StatusForbidden},
	{session.ErrEnded, http.StatusConflict},
	{ErrSocketTokenUsed, http.StatusConflict},
	{ErrNotWebsocket, http.StatusUpgradeRequired},
	{session.ErrConflict, http.StatusConflict},
	{ErrBodyTooLarge, http.StatusRequestEntityTooLarge},
	{ErrBodyTimeout, http.StatusRequestTimeout},
	{ErrTooManySockets, http.StatusTooManyRequests},
	{ErrQuota, http.StatusTooManyRequests},
	{ErrSignalRefused, http.StatusTooManyRequests},
	{ErrNoCapacity, http.StatusServiceUnavailable},
	{ErrUnavailable, http.StatusServiceUnavailable},
	{nats.ErrConnectionClosed, http.StatusServiceUnavailable},
	{nats.ErrConnectionDraining, http.StatusServiceUnavailable},
	{nats.ErrNoServers, http.StatusServiceUnavailable},
	{nats.ErrNoResponders, http.StatusServiceUnavailable},
	{nats.ErrTimeout, http.StatusServiceUnavailable},
	{njs.ErrNoStreamResponse, http.StatusServiceUnavailable},
	{njs.ErrJetStreamNotEnabled, http.StatusServiceUnavailable},
	{context.DeadlineExceeded, http.StatusServiceUnavailable},
}

// statusOf returns the HTTP status for err; 500 when no sentinel matches.
func statusOf(err error) int {
	for _, e := range statusTable {
		if errors.Is(err, e.err) {
			return e.status
		}
	}
	return http.StatusInternalServerError
}
