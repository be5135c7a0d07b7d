package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/streamstack/streamstack/internal/benchmark"
)

// The browser tests drive Debian's chromium, headless, with chromedp. CI
// installs it (scripts/install-deps.sh); a missing chromium fails them,
// unless STREAMSTACK_SKIP_BROWSER=1 skips them on purpose.

// chromiumPath is where Debian's package puts the browser;
// STREAMSTACK_CHROMIUM overrides it.
func chromiumPath() string {
	if p := os.Getenv("STREAMSTACK_CHROMIUM"); p != "" {
		return p
	}
	return "/usr/bin/chromium"
}

// needChromium skips when browser tests are turned off and fails when the
// browser is missing.
func needChromium(t testing.TB) string {
	t.Helper()
	if os.Getenv("STREAMSTACK_SKIP_BROWSER") == "1" {
		t.Skip("STREAMSTACK_SKIP_BROWSER=1: browser tests skipped")
	}
	p := chromiumPath()
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("chromium not found (%v): install it with scripts/install-deps.sh (Debian package chromium), "+
			"point STREAMSTACK_CHROMIUM at it, or set STREAMSTACK_SKIP_BROWSER=1 to skip the browser tests", err)
	}
	return p
}

// browser is one headless chromium with one tab.
type browser struct {
	t   testing.TB
	ctx context.Context // the tab; actions take their own deadlines

	mu      sync.Mutex
	console []string // console lines and exceptions, shown when a test fails
	output  bytes.Buffer
	// dialogs are the messages of the page's confirm/alert dialogs, which
	// are answered as refuse says: accepted unless set.
	dialogs []string
	refuse  bool
}

// lockedWriter lets chromium's output land in the browser's buffer.
type lockedWriter struct{ b *browser }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.b.mu.Lock()
	defer w.b.mu.Unlock()
	if w.b.output.Len() < 1<<20 {
		w.b.output.Write(p)
	}
	return len(p), nil
}

// startBrowser starts chromium in a fresh profile directory. Cleanup closes
// it and makes sure no process of it is left; on failure it logs the page's
// console and chromium's output.
func startBrowser(t testing.TB, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	exe := needChromium(t)
	dir := t.TempDir()
	b := &browser{t: t}
	opts := append(benchmark.ChromiumOptions(exe, dir), chromedp.CombinedOutput(lockedWriter{b}))
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	b.ctx = ctx

	// The first action starts the browser and binds it to ctx, which has
	// no deadline; each later action gets its own.
	startCtx, cancelStart := context.WithTimeout(ctx, 60*time.Second)
	defer cancelStart()
	consoleEvents := chromedp.Events(ctx, runtime.ConsoleAPICalled)
	exceptionEvents := chromedp.Events(ctx, runtime.ExceptionThrown)
	dialogEvents := chromedp.Events(ctx, page.JavascriptDialogOpening)
	var wg sync.WaitGroup
	wg.Go(func() {
		for ev, err := range consoleEvents {
			if err != nil {
				return
			}
			var parts []string
			for _, a := range ev.Args {
				if len(a.Value) > 0 {
					parts = append(parts, string(a.Value))
				} else {
					parts = append(parts, a.Description)
				}
			}
			b.logf("console.%s: %s", ev.Type, strings.Join(parts, " "))
		}
	})
	wg.Go(func() {
		for ev, err := range exceptionEvents {
			if err != nil {
				return
			}
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.logf("exception at %s:%d: %s", d.URL, d.LineNumber+1, msg)
		}
	})
	wg.Go(func() {
		for ev, err := range dialogEvents {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.dialogs = append(b.dialogs, ev.Message)
			accept := !b.refuse
			b.mu.Unlock()
			b.logf("dialog %s %q: accept %v", ev.Type, ev.Message, accept)
			// Answered off the event loop, which the answer goes through.
			go func() {
				_, _ = chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept})
			}()
		}
	})
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc() // waits for chromium to exit
		wg.Wait()
		killProfileProcesses(dir)
		if t.Failed() {
			b.mu.Lock()
			t.Logf("browser console:\n%s", strings.Join(b.console, "\n"))
			out := b.output.String()
			b.mu.Unlock()
			if len(out) > 8000 {
				out = "…" + out[len(out)-8000:]
			}
			t.Logf("chromium output:\n%s", out)
		}
	})
	if err := chromedp.Do(startCtx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

func (b *browser) logf(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.console = append(b.console, time.Now().Format("15:04:05.000 ")+fmt.Sprintf(format, args...))
}

// killProfileProcesses kills what is left of a chromium that used dir as
// its profile (its helpers can outlive the main process for a moment and
// would write into a removed directory), until none shows up three times
// in a row.
func killProfileProcesses(dir string) {
	want := []byte("--user-data-dir=" + dir)
	deadline := time.Now().Add(3 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		found := 0
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || pid == os.Getpid() {
				continue
			}
			cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
			if err != nil {
				continue
			}
			for arg := range bytes.SplitSeq(cmdline, []byte{0}) {
				if bytes.Equal(arg, want) {
					_ = syscall.Kill(pid, syscall.SIGKILL)
					found++
					break
				}
			}
		}
		if found == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// do runs actions with a deadline.
func (b *browser) do(timeout time.Duration, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// navigate loads url and waits for the load event.
func (b *browser) navigate(url string) {
	b.t.Helper()
	b.do(30*time.Second, chromedp.Navigate(url))
}

// eval evaluates a JavaScript expression (awaiting a promise) into T.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

// waitFor polls a JavaScript predicate until it is truthy or the deadline
// passes; on a timeout it fails with what describe evaluates to.
func waitFor[T any](b *browser, timeout time.Duration, predicate, describe string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout+5*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Poll[T](predicate,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		state := "(unavailable)"
		sctx, scancel := context.WithTimeout(b.ctx, 5*time.Second)
		if s, e := chromedp.Run(sctx, chromedp.Evaluate[string](describe)); e == nil {
			state = s
		}
		scancel()
		b.t.Fatalf("waiting for %s: %v; page: %s", predicate, err, state)
	}
	return v
}

// addInitScript runs source in every page before the page's own scripts.
func (b *browser) addInitScript(source string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: source}); err != nil {
		b.t.Fatalf("add init script: %v", err)
	}
}

// screenshot saves a PNG of the page under testdata/artifacts and logs
// where.
func (b *browser) screenshot(name string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot: %v", err)
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "artifacts"))
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s", p)
	return p
}

// pageState describes the web client for failure messages.
const pageState = `JSON.stringify({url: location.href, state: window.streamstack?.state, session: window.streamstack?.sessionId,
	frames: window.streamstack?.frames, error: window.streamstack?.error, status: document.getElementById("status")?.textContent,
	stats: window.streamstack?.client?.stats})`

// clientURL is the web client's address with query parameters.
func (s *stack) clientURL(q url.Values) string {
	return s.baseURL + "/?" + q.Encode()
}

// elementCenter is the page coordinates of the centre of the element
// matched by a CSS selector.
func (b *browser) elementCenter(sel string) (x, y float64) {
	b.t.Helper()
	r := eval[struct{ X, Y float64 }](b, fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect();
		return {X: r.left + r.width / 2, Y: r.top + r.height / 2}; })()`, sel))
	return r.X, r.Y
}

// jsonString renders v as a JavaScript string literal.
func jsonString(v string) string {
	b, _ := json.Marshal(v)
	return string(b)
}
