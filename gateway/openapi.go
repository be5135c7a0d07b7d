package gateway

import (
	_ "embed"
	"net/http"
)

// openAPI describes every route of the API (OpenAPI 3.1). A test checks it
// lists exactly the routes the server registers.
//
//go:embed openapi.json
var openAPI []byte

// OpenAPI returns the OpenAPI 3.1 document of the API, as served at
// GET /1.0/openapi.json.
func OpenAPI() []byte { return append([]byte(nil), openAPI...) }

// handleOpenAPI serves the document as is, without the envelope: OpenAPI
// tools read it directly.
func (s *Server) handleOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, _ = w.Write(openAPI)
}
