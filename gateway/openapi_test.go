package gateway

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// openAPIPath turns a ServeMux pattern into an OpenAPI path.
func openAPIPath(pattern string) string {
	return strings.TrimSuffix(pattern, "{$}")
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	s := &Server{}
	registered := map[string]bool{}
	for _, rt := range s.routeTable() {
		key := strings.ToLower(rt.method) + " " + openAPIPath(rt.pattern)
		registered[key] = true
		op, ok := doc.Paths[openAPIPath(rt.pattern)][strings.ToLower(rt.method)]
		if !ok {
			t.Errorf("route %s %s is not in openapi.json", rt.method, rt.pattern)
			continue
		}
		var o struct {
			OperationID string                     `json:"operationId"`
			Responses   map[string]json.RawMessage `json:"responses"`
		}
		if err := json.Unmarshal(op, &o); err != nil || o.OperationID == "" || len(o.Responses) == 0 {
			t.Errorf("%s %s: operation without operationId or responses (%v)", rt.method, rt.pattern, err)
		}
	}
	methods := []string{"get", "put", "post", "delete", "patch", "head", "options", "trace"}
	var ids []string
	for path, item := range doc.Paths {
		for method, op := range item {
			if !slices.Contains(methods, method) {
				continue // parameters, summary...
			}
			if !registered[method+" "+path] {
				t.Errorf("openapi.json documents %s %s, which no route serves", strings.ToUpper(method), path)
			}
			var o struct {
				OperationID string `json:"operationId"`
			}
			_ = json.Unmarshal(op, &o)
			if slices.Contains(ids, o.OperationID) {
				t.Errorf("operationId %q used twice", o.OperationID)
			}
			ids = append(ids, o.OperationID)
		}
	}
	// Every $ref points at a schema that exists.
	raw := string(OpenAPI())
	for _, part := range strings.Split(raw, `"$ref": "#/components/schemas/`)[1:] {
		name, _, _ := strings.Cut(part, `"`)
		if _, ok := doc.Components.Schemas[name]; !ok {
			t.Errorf("$ref to missing schema %q", name)
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	g := newTestGW(t)
	a := g.call(http.MethodGet, "/1.0/openapi.json", nil, "Authorization", "")
	if a.code != 200 || string(a.raw) != string(OpenAPI()) {
		t.Fatalf("GET /1.0/openapi.json: %d, %d bytes", a.code, len(a.raw))
	}
}
