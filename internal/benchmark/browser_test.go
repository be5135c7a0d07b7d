package benchmark

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"
)

// TestBrowserSignsInWebClient drives a real chromium through what the
// bench's browser rows need: start, load a page, store the token where
// the web client reads it, evaluate, close leaving no process behind.
func TestBrowserSignsInWebClient(t *testing.T) {
	exe := os.Getenv("STREAMSTACK_CHROMIUM")
	if exe == "" {
		exe = "/usr/bin/chromium"
	}
	if os.Getenv("STREAMSTACK_SKIP_BROWSER") == "1" {
		t.Skip("STREAMSTACK_SKIP_BROWSER=1")
	}
	if _, err := os.Stat(exe); err != nil {
		t.Skipf("no chromium: %v", err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte("<!doctype html><title>web client</title>"))
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	b, err := StartBrowser(ctx, exe)
	if err != nil {
		t.Fatal(err)
	}
	profile := b.profile
	defer func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
		if _, err := os.Stat(profile); !os.IsNotExist(err) {
			t.Errorf("profile %s left behind: %v", profile, err)
		}
	}()
	if err := SignInWebClient(ctx, b, srv.URL, "tok|en"); err != nil {
		t.Fatal(err)
	}
	got, err := eval[string](ctx, b, 10*time.Second, `localStorage.getItem("`+webClientTokenKey+`")`)
	if err != nil || got != "tok|en" {
		t.Fatalf("token in the page's storage %q, %v", got, err)
	}
}
