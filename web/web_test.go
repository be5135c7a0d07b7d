package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, h http.Handler, method, path string, headers ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestServesClientAndSDK(t *testing.T) {
	h := Handler()
	for _, tc := range []struct {
		path, ctype, contains string
	}{
		{"/", "text/html", `<script type="module" src="/app.js">`},
		{"/?session=abc&token=x", "text/html", `id="video"`},
		{"/index.html", "text/html", `id="stats"`},
		{"/app.js", "text/javascript", `from "./sdk/streamstack.js"`},
		{"/style.css", "text/css", "object-fit: contain"},
		{"/qr.js", "text/javascript", "export function qrSVG"},
		{"/favicon.svg", "image/svg+xml", "<svg"},
		{"/sdk/streamstack.js", "text/javascript", "export class StreamstackClient"},
		{"/sdk/input.js", "text/javascript", "export function mapToRemote"},
		{"/sdk/streamstack.d.ts", "application/typescript", "export declare class StreamstackClient"},
	} {
		rec := get(t, h, http.MethodGet, tc.path)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: %d", tc.path, rec.Code)
			continue
		}
		if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
			t.Errorf("%s: Content-Type %q, want %s", tc.path, ct, tc.ctype)
		}
		if !strings.Contains(rec.Body.String(), tc.contains) {
			t.Errorf("%s does not contain %q", tc.path, tc.contains)
		}
		if rec.Header().Get("ETag") == "" || rec.Header().Get("Cache-Control") != "no-cache" ||
			rec.Header().Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: headers %v", tc.path, rec.Header())
		}
	}
}

func TestHeaders(t *testing.T) {
	h := Handler()
	page := get(t, h, http.MethodGet, "/")
	if csp := page.Header().Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") ||
		!strings.HasSuffix(csp, "frame-ancestors 'self'") {
		t.Errorf("page CSP %q", csp)
	}
	framed := get(t, HandlerFraming("'self' https://portal.example.com"), http.MethodGet, "/")
	if csp := framed.Header().Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors 'self' https://portal.example.com") {
		t.Errorf("embedding page CSP %q", csp)
	}
	for _, bad := range []string{"", "*; script-src *", "'self',x", "a\nb"} {
		if CheckFrameAncestors(bad) == nil {
			t.Errorf("frame ancestors %q accepted", bad)
		}
		if csp := get(t, HandlerFraming(bad), http.MethodGet, "/").Header().Get("Content-Security-Policy"); !strings.HasSuffix(csp, "frame-ancestors 'self'") {
			t.Errorf("with %q the page CSP is %q", bad, csp)
		}
	}
	if page.Header().Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("page Referrer-Policy %q: the URL may carry the token", page.Header().Get("Referrer-Policy"))
	}
	if page.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Error("the page is served to other origins")
	}
	// Pages on other sites import the SDK.
	sdk := get(t, h, http.MethodGet, "/sdk/streamstack.js", "Origin", "https://games.example.com")
	if sdk.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("SDK Access-Control-Allow-Origin %q", sdk.Header().Get("Access-Control-Allow-Origin"))
	}
}

func TestConditionalAndErrors(t *testing.T) {
	h := Handler()
	first := get(t, h, http.MethodGet, "/sdk/streamstack.js")
	again := get(t, h, http.MethodGet, "/sdk/streamstack.js", "If-None-Match", first.Header().Get("ETag"))
	if again.Code != http.StatusNotModified || again.Body.Len() != 0 {
		t.Errorf("revalidation answered %d with %d bytes", again.Code, again.Body.Len())
	}
	if head := get(t, h, http.MethodHead, "/app.js"); head.Code != http.StatusOK || head.Body.Len() != 0 {
		t.Errorf("HEAD answered %d with %d bytes", head.Code, head.Body.Len())
	}
	for _, p := range []string{"/nope.js", "/sdk/", "/static/app.js", "/../web.go", "/app.js/"} {
		if rec := get(t, h, http.MethodGet, p); rec.Code != http.StatusNotFound {
			t.Errorf("%s answered %d", p, rec.Code)
		}
	}
	rec := get(t, h, http.MethodPost, "/")
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST answered %d, Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}

// The gateways an operator names reach the page twice: its CSP lets it
// connect to them, and a meta tag tells app.js to fail over to them.
func TestGatewaysInPolicyAndPage(t *testing.T) {
	h, err := NewHandler(Options{FrameAncestors: DefaultFrameAncestors, Gateways: []string{"https://b.example.com", "http://127.0.0.1:8081/"}})
	if err != nil {
		t.Fatal(err)
	}
	rec := get(t, h, http.MethodGet, "/")
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "connect-src 'self' https://b.example.com http://127.0.0.1:8081 ws: wss:;") {
		t.Fatalf("CSP %q", csp)
	}
	if body := rec.Body.String(); !strings.Contains(body, `<meta name="streamstack-gateways" content="https://b.example.com http://127.0.0.1:8081">`) {
		t.Fatalf("page without the gateways: %.400s", body)
	}
	plain := get(t, Handler(), http.MethodGet, "/")
	if strings.Contains(plain.Body.String(), "streamstack-gateways") || plain.Header().Get("ETag") == rec.Header().Get("ETag") {
		t.Fatal("a page without gateways names some, or shares the ETag of one with them")
	}
	for _, bad := range []string{"ftp://x", "https://x/path", "https://x?q", "https://a b", "https://x;script-src *", "x.example.com", `https://x"><script>`} {
		if _, err := NewHandler(Options{FrameAncestors: DefaultFrameAncestors, Gateways: []string{bad}}); !errors.Is(err, ErrBadOptions) {
			t.Errorf("gateway %q: %v, want ErrBadOptions", bad, err)
		}
	}
}
