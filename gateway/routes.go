package gateway

import "net/http"

// route is one entry of the API. The table is the single list the mux is
// built from and the OpenAPI test walks.
type route struct {
	method  string
	pattern string // a ServeMux path pattern
	handler http.HandlerFunc
}

// URL shapes. The websocket path is what create and join answer in url.
const (
	pathSessions = "/1.0/sessions"
	pathSocket   = "/1.0/sessions/{id}/sockets/client"
)

func (s *Server) routeTable() []route {
	return []route{
		// Open: health for load balancers (agents only with a token) and
		// the API description.
		{http.MethodGet, "/1.0/status", s.handleStatus},
		{http.MethodGet, "/1.0/openapi.json", s.handleOpenAPI},

		{http.MethodGet, "/1.0/regions", s.requireToken(readAccess, s.handleRegions)},
		{http.MethodGet, pathApplications, s.requireToken(readAccess, s.handleApplications)},
		// The Anbox SDK posts to /1.0/sessions/; both forms are served.
		{http.MethodPost, pathSessions, s.requireToken(writeAccess, s.handleCreate)},
		{http.MethodPost, pathSessions + "/{$}", s.requireToken(writeAccess, s.handleCreate)},
		{http.MethodGet, pathSessions, s.requireToken(readAccess, s.handleList)},
		{http.MethodGet, pathSessions + "/{$}", s.requireToken(readAccess, s.handleList)},
		{http.MethodGet, pathSessions + "/{id}", s.requireToken(readAccess, s.handleGet)},
		{http.MethodDelete, pathSessions + "/{id}", s.requireToken(writeAccess, s.handleDelete)},
		// A join takes an API token or a share link's token (share.go).
		{http.MethodPost, pathSessions + "/{id}/join", s.handleJoinRoute},
		{http.MethodPost, pathSessions + "/{id}/share", s.requireToken(writeAccess, s.handleShareCreate)},
		{http.MethodGet, pathSessions + "/{id}/share", s.requireToken(readAccess, s.handleShareList)},
		{http.MethodDelete, pathSessions + "/{id}/share/{share}", s.requireToken(writeAccess, s.handleShareRevoke)},

		// The websocket carries its own session token in ?token=.
		{http.MethodGet, pathSocket, s.handleClientSocket},
		// A resume carries its own credential in its body (sockettoken.go).
		{http.MethodPost, pathSessions + "/{id}/resume", s.handleResume},
	}
}
