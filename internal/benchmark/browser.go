package benchmark

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/session"
)

// Browser is a headless chromium with one tab, driven over the DevTools
// protocol (chromedp) as the integration tests drive it, so that the
// bench measures what BenchmarkBrowserFirstFrame measures.
type Browser struct {
	tab         context.Context // actions take their own deadlines
	cancelTab   context.CancelFunc
	cancelAlloc context.CancelFunc
	profile     string
}

// ChromiumOptions are how the bench and the browser tests start chromium
// at exe with profile: headless, no sandbox or GPU, media plays without a
// gesture, and nothing in the background throttles a hidden page's timers
// or reaches the network.
func ChromiumOptions(exe, profile string) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe), chromedp.UserDataDir(profile),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.WindowSize(1280, 800),
	}
}

// StartBrowser starts chromium at exe in a fresh profile directory.
func StartBrowser(ctx context.Context, exe string) (*Browser, error) {
	profile, err := os.MkdirTemp("", "streamstack-bench-chromium-")
	if err != nil {
		return nil, err
	}
	opts := ChromiumOptions(exe, profile)
	// The browser lives until Close, not until ctx's end: ctx only bounds
	// its start.
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.WithoutCancel(ctx), opts...)
	tab, cancelTab := chromedp.NewContext(allocCtx)
	b := &Browser{tab: tab, cancelTab: cancelTab, cancelAlloc: cancelAlloc, profile: profile}
	// The first action starts chromium, which then lives as long as that
	// action's context: the tab's own, without a deadline. The start is
	// bounded from outside, by ending the tab.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(tab) }()
	timer := time.NewTimer(browserStartTimeout)
	defer timer.Stop()
	select {
	case err = <-started:
	case <-timer.C:
		cancelTab()
		err = errors.Join(fmt.Errorf("no answer within %s", browserStartTimeout), <-started)
	case <-ctx.Done():
		cancelTab()
		err = errors.Join(ctx.Err(), <-started)
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("benchmark: start chromium: %w", err), b.Close())
	}
	return b, nil
}

// browserStartTimeout bounds chromium's start (a cold start on a loaded
// 2-core host takes seconds).
const browserStartTimeout = 60 * time.Second

// Close ends chromium and removes its profile.
func (b *Browser) Close() error {
	b.cancelTab()
	b.cancelAlloc() // waits for chromium to exit
	killProfile(b.profile)
	return os.RemoveAll(b.profile)
}

// killProfile kills what is left of the chromium that used profile (its
// helpers can outlive the main process for a moment), until none shows up
// three times in a row or 3 s pass.
func killProfile(profile string) {
	want := []byte("--user-data-dir=" + profile + "\x00")
	deadline := time.Now().Add(3 * time.Second)
	for quiet := 0; quiet < 3 && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		found := 0
		paths, _ := filepath.Glob("/proc/[0-9]*/cmdline")
		for _, p := range paths {
			cmdline, err := os.ReadFile(p)
			if err != nil || !bytes.Contains(cmdline, want) {
				continue
			}
			if pid, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				found++
			}
		}
		if found == 0 {
			quiet++
		} else {
			quiet = 0
		}
	}
}

// eval evaluates a JavaScript expression into T within timeout.
func eval[T any](ctx context.Context, b *Browser, timeout time.Duration, expr string) (T, error) {
	c, cancel := context.WithTimeout(b.tab, timeout)
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	return chromedp.Run(c, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
}

// poll waits until a JavaScript predicate is truthy.
func poll(ctx context.Context, b *Browser, timeout time.Duration, predicate string) error {
	c, cancel := context.WithTimeout(b.tab, timeout+5*time.Second)
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	_, err := chromedp.Run(c, chromedp.Poll[bool](predicate,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	return err
}

func navigate(ctx context.Context, b *Browser, url string) error {
	c, cancel := context.WithTimeout(b.tab, 30*time.Second)
	defer cancel()
	defer context.AfterFunc(ctx, cancel)()
	return chromedp.Do(c, chromedp.Navigate(url))
}

// webClientTokenKey is where the web client (web/static/app.js) keeps its
// API token. The bench puts the token there rather than in the page's
// URL, which would put a secret in the browser's history and logs.
const webClientTokenKey = "streamstack.token"

// SignInWebClient opens the web client at base (the gateway's URL) and
// stores token as its API token.
func SignInWebClient(ctx context.Context, b *Browser, base, token string) error {
	if err := navigate(ctx, b, base+"/"); err != nil {
		return fmt.Errorf("benchmark: open the web client: %w", err)
	}
	_, err := eval[bool](ctx, b, 10*time.Second,
		fmt.Sprintf("(localStorage.setItem(%s, %s), true)", strconv.Quote(webClientTokenKey), strconv.Quote(token)))
	return err
}

// autostartPage is the web client starting a VP8 test-pattern session of
// its own at load, as BenchmarkBrowserFirstFrame loads it.
func autostartPage(base string) string { return base + "/?autostart=1&joinable=0&codec=VP8" }

// BrowserFirstFrame loads the web client n times (after one untimed load:
// chromium's first compiles and caches what later ones reuse), each load
// starting a session, and returns each load's first frame shown as the
// page measures it (from navigation start to the first
// requestVideoFrameCallback). Each session is deleted, and waited for to
// end, before the next load.
func BrowserFirstFrame(ctx context.Context, b *Browser, api *client.Gateway, n int) (Durations, error) {
	out := make(Durations, 0, n)
	for i := range n + 1 {
		ms, id, err := browserLoad(ctx, b, api.BaseURL)
		if id != "" {
			err = errors.Join(err, endSession(ctx, api, id))
		}
		if err != nil {
			return out, err
		}
		if i > 0 {
			out = append(out, time.Duration(ms*float64(time.Millisecond)))
		}
	}
	return out, nil
}

// pageState describes the web client in an error.
const pageState = `JSON.stringify({state: window.streamstack?.state, session: window.streamstack?.sessionId,
	error: window.streamstack?.error, status: document.getElementById("status")?.textContent})`

// browserLoad loads the page and waits for its first frame: the page's
// figure in milliseconds and the session's id.
func browserLoad(ctx context.Context, b *Browser, base string) (float64, string, error) {
	if err := navigate(ctx, b, autostartPage(base)); err != nil {
		return 0, "", fmt.Errorf("benchmark: load the web client: %w", err)
	}
	err := poll(ctx, b, 30*time.Second, `window.streamstack && window.streamstack.firstFrameMs > 0`)
	id, _ := eval[string](ctx, b, 5*time.Second, `window.streamstack?.sessionId || ""`)
	if err != nil {
		state, _ := eval[string](ctx, b, 5*time.Second, pageState)
		return 0, id, fmt.Errorf("benchmark: no first frame in chromium: %w; page: %s", err, state)
	}
	ms, err := eval[float64](ctx, b, 5*time.Second, `window.streamstack.client.timing.firstFrame`)
	return ms, id, err
}

// GlassToGlass is the web client's capture → presentation of a session's
// frames (the SDK's client.glassToGlass: a rolling window of frames).
type GlassToGlass struct {
	P50, P95 time.Duration
	Frames   int
}

// BrowserGlassToGlass loads the web client once and, once frames frames
// have a glass-to-glass reading (or 30 s passed), reads the SDK's
// summary.
func BrowserGlassToGlass(ctx context.Context, b *Browser, api *client.Gateway, frames int) (g GlassToGlass, err error) {
	_, id, err := browserLoad(ctx, b, api.BaseURL)
	if id != "" {
		defer func() { err = errors.Join(err, endSession(ctx, api, id)) }()
	}
	if err != nil {
		return g, err
	}
	if err := poll(ctx, b, 30*time.Second, fmt.Sprintf(`(window.streamstack.glassToGlass?.frames ?? 0) >= %d`, frames)); err != nil {
		return g, fmt.Errorf("benchmark: no glass-to-glass reading of %d frames from the page: %w", frames, err)
	}
	type summary struct{ P50Ms, P95Ms, Frames float64 }
	s, err := eval[summary](ctx, b, 5*time.Second, `(({p50Ms, p95Ms, frames}) => ({P50Ms: p50Ms, P95Ms: p95Ms, Frames: frames}))(window.streamstack.glassToGlass)`)
	if err != nil {
		return g, err
	}
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	return GlassToGlass{P50: ms(s.P50Ms), P95: ms(s.P95Ms), Frames: int(s.Frames)}, nil
}

// endSession deletes a session and waits until it has ended, so that its
// streamer is gone before the next measure.
func endSession(ctx context.Context, api *client.Gateway, id string) error {
	if err := api.Delete(ctx, id); err != nil {
		return err
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		s, err := api.Get(ctx, id)
		var apiErr *client.APIError
		switch {
		case errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusNotFound:
			return nil
		case err != nil:
			return err
		case s.Status == session.StatusTerminated || s.Status == session.StatusError:
			return nil
		case time.Now().After(deadline):
			return fmt.Errorf("benchmark: session %s still %s 20 s after its delete", id, s.Status)
		}
		if err := Sleep(ctx, 10*time.Millisecond); err != nil {
			return err
		}
	}
}

// Sleep waits d, or until ctx ends (its error then): the pauses a bench
// makes between its measuring windows.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
