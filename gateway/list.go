package gateway

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/session"
)

// listStatuses are the values the status filter accepts.
var listStatuses = []session.Status{
	session.StatusCreated, session.StatusActive, session.StatusError,
	session.StatusTerminating, session.StatusTerminated,
}

// maxCursorBytes bounds a cursor parameter: a real one is an id and a
// count.
const maxCursorBytes = 64

func (s *Server) handleList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	status := session.Status(q.Get("status"))
	limit, err := queryInt(q, "limit")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	offset, err := queryInt(q, "offset")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recursive := false
	for _, key := range []string{"recursive", "recursion"} {
		switch strings.ToLower(q.Get(key)) {
		case "", "0", "false":
		case "1", "true":
			recursive = true
		default:
			s.fail(w, r, badRequest("%s must be 0 or 1", key))
			return
		}
	}

	ctx, cancel := s.requestCtx(r)
	defer cancel()
	q2 := ListQuery{Status: status, Limit: limit, Offset: offset, Cursor: q.Get("cursor"), Recursive: recursive}
	if info := tokenOf(r); info.Scoped() == auth.ScopeSessions {
		q2.CreatedBy = info.ID
	}
	page, err := s.listSessions(ctx, q2)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Response{Type: "sync", Status: "success", StatusCode: http.StatusOK, Metadata: page.items, Next: page.next})
}

// ListQuery selects sessions: by status, a page of them, ids or records.
type ListQuery struct {
	Status session.Status `json:"status,omitempty"`
	// Limit is the most a page holds: 0 is Config.ListDefaultLimit, more
	// than Config.MaxListLimit is cut to it.
	Limit  int `json:"limit,omitempty"`
	Offset int `json:"offset,omitempty"`
	// Cursor is the next of the answer before (Response.Next): the page
	// after that one.
	Cursor    string `json:"cursor,omitempty"`
	Recursive bool   `json:"recursive,omitempty"`
	// CreatedBy keeps the sessions one token created (a sessions-scoped
	// token's view); set by the gateway, never from the request.
	CreatedBy string `json:"-"`
}

// listPage is a listing's answer: the metadata, and the cursor of the next
// page (Response.Next) when there is one.
type listPage struct {
	items any // []string, or []*session.Session when recursive
	next  string
}

// listSessions answers one page of ids, or records when q.Recursive,
// newest first. It reads the bucket's keys and the page's records only
// (session.Store.Page): Config.MaxListLimit, ListMaxReads and ListMaxBytes
// bound its work and its answer whatever the bucket holds.
func (s *Server) listSessions(ctx context.Context, q ListQuery) (listPage, error) {
	if q.Status != "" && !slices.Contains(listStatuses, q.Status) {
		return listPage{}, badRequest("status must be one of created, active, error, terminating, terminated; got %q", truncate(string(q.Status), 32))
	}
	if q.Limit < 0 || q.Offset < 0 {
		return listPage{}, badRequest("limit and offset must be non-negative")
	}
	if len(q.Cursor) > maxCursorBytes {
		return listPage{}, badRequest("cursor is not one a listing answered")
	}
	if q.Limit == 0 {
		q.Limit = s.cfg.ListDefaultLimit
	}
	q.Limit = min(q.Limit, s.cfg.MaxListLimit)
	pq := session.PageQuery{Cursor: q.Cursor, Offset: q.Offset, Limit: q.Limit, MaxReads: max(q.Limit, s.cfg.ListMaxReads)}
	if q.Recursive {
		pq.MaxBytes = s.cfg.ListMaxBytes
	}
	if q.Status != "" || q.CreatedBy != "" {
		pq.Keep = func(x *session.Session) bool {
			return (q.Status == "" || x.Status == q.Status) && (q.CreatedBy == "" || x.CreatedBy == q.CreatedBy)
		}
	}
	page, err := s.sessions.Page(ctx, pq)
	if errors.Is(err, session.ErrBadCursor) {
		return listPage{}, badRequest("cursor is not one a listing answered")
	}
	if err != nil {
		return listPage{}, err
	}
	if q.Recursive {
		return listPage{items: append(make([]*session.Session, 0, len(page.Sessions)), page.Sessions...), next: page.Next}, nil
	}
	ids := make([]string, 0, len(page.Sessions))
	for _, x := range page.Sessions {
		ids = append(ids, x.ID)
	}
	return listPage{items: ids, next: page.Next}, nil
}
