package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
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
	h, err := NewHandler(Options{FrameAncestors: ancestors})
	if err != nil {
		h, _ = NewHandler(Options{FrameAncestors: DefaultFrameAncestors}) // never let a setting end the policy
	}
	return h
}

// Options are the settings of the web client.
type Options struct {
	// FrameAncestors are the CSP frame-ancestors sources (see
	// HandlerFraming).
	FrameAncestors string
	// Gateways are the cluster's other gateways (http(s)://host[:port]):
	// the page fails over to them, in order, when its own gateway dies,
	// and its CSP lets it reach them (connect-src). Operators name them,
	// never a link: they get the person's API token.
	Gateways []string
}

// Validate refuses frame ancestors that could end the policy, and
// gateways that are not bare http(s) origins.
func (o Options) Validate() error {
	if err := CheckFrameAncestors(o.FrameAncestors); err != nil {
		return err
	}
	for _, g := range o.Gateways {
		u, err := url.Parse(g)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") ||
			u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.ContainsAny(g, " ;,\"'<>\r\n") {
			return fmt.Errorf("%w: gateway %q: want http(s)://host[:port]", ErrBadOptions, g)
		}
	}
	return nil
}

// ErrBadOptions reports Options that Validate refuses.
var ErrBadOptions = errors.New("web: bad options")

// NewHandler is Handler with o: the frame ancestors, and the gateways the
// page may fail over to, named in its CSP and in a
// <meta name="streamstack-gateways"> the page reads.
func NewHandler(o Options) (http.Handler, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	ancestors := o.FrameAncestors
	var origins []string
	for _, g := range o.Gateways {
		origins = append(origins, strings.TrimSuffix(g, "/"))
	}
	connect := strings.Join(origins, " ")
	files := map[string]*file{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		name := strings.TrimPrefix(p, "static")
		if name == "/index.html" && len(origins) > 0 {
			data = bytes.Replace(data, []byte("<head>\n"),
				[]byte("<head>\n  <meta name=\"streamstack-gateways\" content=\""+connect+"\">\n"), 1)
		}
		sum := sha256.Sum256(data)
		files[name] = &file{name: name, data: data, ctype: contentType(name), etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil { // the embedded tree is fixed at build time: never seen
		return nil, fmt.Errorf("web: embedded files: %w", err)
	}
	files["/"] = files["/index.html"]
	csp := pageCSP + ancestors
	if connect != "" {
		csp = strings.Replace(csp, "connect-src 'self'", "connect-src 'self' "+connect, 1)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serve(files, csp, w, r)
	}), nil
}

func serve(files map[string]*file, csp string, w http.ResponseWriter, r *http.Request) {
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
		h.Set("Content-Security-Policy", csp)
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
