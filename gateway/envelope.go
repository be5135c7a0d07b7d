package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
)

// Response is the envelope of every successful answer, as the Anbox Cloud
// Stream Gateway writes it: clients check status == "success" and read
// metadata.
type Response struct {
	Type       string `json:"type"`
	Status     string `json:"status"`
	StatusCode int    `json:"status_code"`
	Metadata   any    `json:"metadata"`
	// Next is a listing's cursor for its next page (the cursor parameter);
	// absent on the last page and on every other answer.
	Next string `json:"next,omitempty"`
}

// ErrorResponse is the envelope of every error answer; StatusCode matches
// the HTTP status.
type ErrorResponse struct {
	Type       string `json:"type"`
	Status     string `json:"status"`
	StatusCode int    `json:"status_code"`
	Error      string `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		// Only our own types are encoded here; failing is a bug.
		status = http.StatusInternalServerError
		data, _ = json.Marshal(ErrorResponse{Type: "error", Status: "error", StatusCode: status, Error: "internal error: encode answer"})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(data, '\n'))
}

// writeSync answers status (200 or 201) with metadata in the envelope.
func writeSync(w http.ResponseWriter, status int, metadata any) {
	writeJSON(w, status, Response{Type: "sync", Status: "success", StatusCode: status, Metadata: metadata})
}

// writeError answers the status statusOf maps err to, with err's message.
// Server errors are logged; a 500 is answered with a generic message so
// internals never leak (a 503 says what is unavailable).
func writeError(w http.ResponseWriter, log *slog.Logger, err error) {
	status := statusOf(err)
	msg := err.Error()
	if status >= 500 {
		log.Error("request failed", "status", status, "err", err)
		if status != http.StatusServiceUnavailable {
			msg = "internal error" // details are in the log
		}
	}
	writeJSON(w, status, ErrorResponse{Type: "error", Status: "error", StatusCode: status, Error: msg})
}

// fail answers err for request r, logging with the session id when the
// route has one.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	log := s.log
	if id := r.PathValue("id"); id != "" {
		log = log.With("session", id)
	}
	writeError(w, log, err)
}

// badRequest wraps a message naming the field at fault.
func badRequest(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadRequest}, args...)...)
}

// decodeBody reads a JSON body of at most limit bytes into v. An empty body
// is allowed when emptyOK, leaving v as is.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any, emptyOK bool) error {
	if r.ContentLength > limit {
		return fmt.Errorf("%w: the body is %d bytes, the limit is %d", ErrBodyTooLarge, r.ContentLength, limit)
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return fmt.Errorf("%w: the limit is %d bytes", ErrBodyTooLarge, limit)
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return fmt.Errorf("%w: the body did not arrive within the read timeout (--http-read-timeout)", ErrBodyTimeout)
		}
		return badRequest("read body: %v", err)
	}
	if len(data) == 0 {
		if emptyOK {
			return nil
		}
		return badRequest("the body must be a JSON object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		var typeErr *json.UnmarshalTypeError
		var syntaxErr *json.SyntaxError
		switch {
		case errors.Is(err, ErrBadRequest):
			return err
		case errors.As(err, &typeErr) && typeErr.Field != "":
			return badRequest("%s must be %s, got %s", typeErr.Field, jsonKind(typeErr.Type.Kind().String()), typeErr.Value)
		case errors.As(err, &typeErr):
			return badRequest("the body must be a JSON object, got %s", typeErr.Value)
		case errors.As(err, &syntaxErr):
			return badRequest("malformed JSON body at byte %d: %v", syntaxErr.Offset, syntaxErr)
		default:
			return badRequest("malformed JSON body: %v", err)
		}
	}
	return nil
}

// jsonKind names a Go kind the way a JSON client thinks of it.
func jsonKind(kind string) string {
	switch kind {
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	}
	return "a " + kind
}
