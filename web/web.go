package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// file is one embedded file, ready to serve.
type file struct {
	name  string
	data  []byte
	ctype string
	etag  string
}

// Security headers of the page. The API and the signaling websocket may
// live on another host (--public-url), so connect-src allows websockets
// anywhere; scripts, styles and images come from here only.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"media-src 'self' blob: mediastream:; connect-src 'self' ws: wss:; base-uri 'none'; form-action 'self'; frame-ancestors "

// DefaultFrameAncestors lets only the gateway's own pages frame the web
// client: another site cannot put it in an invisible frame and trick a
// person into clicks (clickjacking).
const DefaultFrameAncestors = "'self'"

// Handler serves the web client at / and the SDK under /sdk/. Only GET and
// HEAD are answered; files are revalidated with their ETag on every use
// (Cache-Control: no-cache), so a new build is picked up at once. Only the
// gateway's own pages may frame the client (DefaultFrameAncestors).
func Handler() http.Handler { return HandlerFraming(DefaultFrameAncestors) }

// CheckFrameAncestors refuses a frame-ancestors value that is empty or
// could end the policy early and add directives of its own.
func CheckFrameAncestors(ancestors string) error {
	if strings.TrimSpace(ancestors) == "" || strings.ContainsAny(ancestors, ";,\r\n\"") {
		return fmt.Errorf("frame ancestors %q: want CSP sources separated by spaces ('self', 'none', https://host)", ancestors)
	}
	return nil
}

// HandlerFraming is Handler with the CSP frame-ancestors sources that may
// embed the web client in a frame ("'self' https://portal.example.com";
// "'none'": nobody).
func HandlerFraming(ancestors string) http.Handler {
	if CheckFrameAncestors(ancestors) != nil {
		ancestors = DefaultFrameAncestors // never let a setting end the policy
	}
	files := map[string]*file{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(data)
		name := strings.TrimPrefix(p, "static")
		files[name] = &file{name: name, data: data, ctype: contentType(name), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil { // the embedded tree is fixed at build time: never seen
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "web client unavailable: "+err.Error(), http.StatusInternalServerError)
		})
	}
	files["/"] = files["/index.html"]
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve(files, ancestors, w, r)
	})
}

func serve(files map[string]*file, ancestors string, w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	f, ok := files[path.Clean("/"+r.URL.Path)]
	if !ok || (r.URL.Path != "/" && strings.HasSuffix(r.URL.Path, "/")) {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.ctype)
	h.Set("ETag", f.etag)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	switch {
	case strings.HasPrefix(f.name, "/sdk/"):
		// The SDK is public: pages on any origin import it.
		h.Set("Access-Control-Allow-Origin", "*")
	case strings.HasSuffix(f.name, ".html"):
		h.Set("Content-Security-Policy", pageCSP+ancestors)
		h.Set("Referrer-Policy", "no-referrer") // the URL may carry ?token=
	}
	http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.data))
}

func contentType(name string) string {
	switch {
	case strings.HasSuffix(name, ".d.ts"):
		return "application/typescript; charset=utf-8"
	case strings.HasSuffix(name, ".js"):
		return "text/javascript; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}
