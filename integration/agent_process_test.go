package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/promtest"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/subjects"
)

// A separate `streamstack agent` serves its metrics and health on
// --metrics-addr, and sets the event stream up with its --events-* limits.
func TestAgentProcessMetricsAndLimits(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{noAgent: true, natsAuth: true})
	ctx := testCtx(t)
	cmd := exec.Command(binary, "agent", "--metrics-addr", "127.0.0.1:0", "--state-dir", t.TempDir(),
		"--cores", "1", "--units-per-core", "2", "--events-max-age", "48h", "--events-max-bytes", "0")
	cmd.Env = append(os.Environ(), "STREAMSTACK_LOG_LEVEL=info", "STREAMSTACK_STATS_INTERVAL=0", "STREAMSTACK_NATS_URL="+st.Server.InternalURL())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	urls := make(chan string, 1)
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		re := regexp.MustCompile(`msg="agent metrics" url=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	exited := false
	stop := func() {
		if exited {
			return
		}
		exited = true
		_ = cmd.Process.Signal(os.Interrupt)
		<-logDone
		if err := cmd.Wait(); err != nil {
			t.Errorf("agent: %v", err)
		}
	}
	t.Cleanup(stop)
	var metricsURL string
	select {
	case metricsURL = <-urls:
	case <-time.After(20 * time.Second):
		t.Fatal("the agent did not log its metrics URL")
	}
	base := metricsURL[:len(metricsURL)-len("/metrics")]
	// Alive at once; ready once its placement consumer answers, which it
	// binds after its metrics listener is up.
	for _, path := range []string{"/healthz", "/readyz"} {
		natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
			resp, err := http.Get(base + path)
			if err != nil {
				return err
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("%s: %d %s", path, resp.StatusCode, body)
			}
			return nil
		})
	}

	// The limits reached the stream.
	stream, err := st.Res.JS.Stream(ctx, subjects.StreamEvents)
	if err != nil {
		t.Fatal(err)
	}
	if cfg := stream.CachedInfo().Config; cfg.MaxAge != 48*time.Hour || cfg.MaxBytes != -1 {
		t.Fatalf("events stream max age %s, max bytes %d", cfg.MaxAge, cfg.MaxBytes)
	}

	units := func(used float64) {
		t.Helper()
		natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
			f, err := promtest.TryScrape(metricsURL)
			if err != nil {
				return err
			}
			u, ok1 := f.Value("streamstack_agent_encoder_units_used", "backend", "libvpx", "codec", "VP8")
			fr, ok2 := f.Value("streamstack_agent_encoder_units_free", "backend", "libvpx", "codec", "VP8")
			if !ok1 || !ok2 || u != used || u+fr != 2 {
				return fmt.Errorf("units used %v free %v, want used %v of 2", u, fr, used)
			}
			if v, _ := f.Value("streamstack_nats_connected", "conn", "main"); v != 1 {
				return fmt.Errorf("nats connected %v", v)
			}
			return nil
		})
	}
	units(0)
	small := session.Screen{Width: 640, Height: 360, FPS: 30}
	info, err := st.api.Create(ctx, client.CreateRequest{App: "test-pattern", Screen: &small})
	if err != nil {
		t.Fatal(err)
	}
	st.waitStatus(t, info.ID, func(s *session.Session) bool { return s.Agent != "" })
	units(0.25)
	// Its streamer is the session's own NATS user, not the agent's.
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		users, err := st.Server.ConnectedUsers()
		if err != nil {
			return err
		}
		if got := users["streamstack-streamer-"+info.ID]; got != jetstream.StreamerUser(info.ID) {
			return fmt.Errorf("the streamer connected as %q (connections %v)", got, users)
		}
		return nil
	})
	if err := st.api.Delete(context.Background(), info.ID); err != nil {
		t.Fatal(err)
	}
	st.waitStatus(t, info.ID, func(s *session.Session) bool { return s.Status.Ended() })
	units(0)
	// Without the placement consumer the agent can take nothing: its
	// /readyz names the consumer, its /healthz stays 200.
	if err := st.Res.JS.DeleteConsumer(ctx, subjects.StreamRequests, agent.PlacementConsumer); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		code, r, err := readyz(base)
		if err != nil {
			return err
		}
		if code != http.StatusServiceUnavailable || !slices.Contains(r.Missing, "consumer "+subjects.StreamRequests+"/"+agent.PlacementConsumer) {
			return fmt.Errorf("readyz %d %+v without the placement consumer", code, r)
		}
		return nil
	})
	if resp, err := http.Get(base + "/healthz"); err != nil {
		t.Fatal(err)
	} else if resp.Body.Close(); resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz %d", resp.StatusCode)
	}
	stop()
}
