package integration

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/gateway"
	"github.com/streamstack/streamstack/internal/localstack"
	"github.com/streamstack/streamstack/internal/natscluster"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/internal/ops"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/subjects"
)

// logWatch is a slog handler that closes seen at the first record whose
// message is msg, and drops every record.
type logWatch struct {
	msg  string
	seen chan struct{}
	once sync.Once
}

func newLogWatch(msg string) *logWatch { return &logWatch{msg: msg, seen: make(chan struct{})} }

func (w *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w *logWatch) Handle(_ context.Context, r slog.Record) error {
	if r.Message == w.msg {
		w.once.Do(func() { close(w.seen) })
	}
	return nil
}
func (w *logWatch) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *logWatch) WithGroup(string) slog.Handler      { return w }

// A gateway started on a real 3-node cluster while 2 of its nodes are down
// (no meta leader: JetStream answers nothing) does not exit: it says it
// waits for NATS and tries again, and once the nodes are back and have
// elected it sets every stream up at R3 and is ready.
func TestGatewayStartWaitsOutAnElection(t *testing.T) {
	checkLeaks(t)
	c := natscluster.StartTest(t, natscluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	for _, n := range c.Nodes()[1:] {
		if err := c.Kill(n); err != nil {
			t.Fatal(err)
		}
	}
	gcfg := gateway.DefaultConfig()
	gcfg.HTTPAddr = "127.0.0.1:0"
	limits := jetstream.DefaultLimits()
	limits.Replicas = 3
	waiting := newLogWatch("waiting for NATS")
	type result struct {
		st  *localstack.Stack
		err error
	}
	done := make(chan result, 1)
	go func() {
		st, err := localstack.Start(ctx, localstack.Options{NATSURL: c.Node(0).URL, NoAgent: true, Gateway: gcfg, Limits: limits,
			Source: "startup", StartTimeout: 3 * time.Minute, Log: slog.New(waiting)})
		done <- result{st, err}
	}()
	select {
	case <-waiting.seen:
	case r := <-done:
		if r.st != nil {
			_ = r.st.Close()
		}
		t.Fatalf("a start with 2 of 3 nodes down returned before it waited: %v", r.err)
	case <-ctx.Done():
		t.Fatal("the gateway never said it waits for NATS")
	}
	for _, n := range c.Nodes()[1:] {
		if err := c.Restart(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	var r result
	select {
	case r = <-done:
	case <-ctx.Done():
		t.Fatal("the gateway did not start once the cluster was back")
	}
	if r.err != nil {
		t.Fatalf("start once the cluster was back: %v", r.err)
	}
	t.Cleanup(func() {
		if err := r.st.Close(); err != nil {
			t.Error(err)
		}
	})
	natstest.CheckFor(t, time.Minute, 50*time.Millisecond, func() error {
		resp, err := http.Get(r.st.URL + "readyz")
		if err != nil {
			return err
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz %d %s", resp.StatusCode, body)
		}
		return nil
	})
	if info := streamInfo(t, ctx, r.st.Res.JS, "KV_"+subjects.BucketSessions); info.Config.Replicas != 3 {
		t.Fatalf("sessions bucket has %d replicas, want 3", info.Config.Replicas)
	}
	const token = "startup-test-token-0123456789"
	if _, err := r.st.Tokens.Ensure(ctx, "startup", token); err != nil {
		t.Fatal(err)
	}
	api := &client.Gateway{BaseURL: strings.TrimSuffix(r.st.URL, "/"), Token: token}
	if _, err := api.Create(ctx, client.CreateRequest{App: "test-pattern", Region: "no-agent-here"}); err != nil {
		t.Fatalf("create once ready: %v", err)
	}
}

// `streamstack gateway` takes its NATS user's password from the
// environment and its admin token from a file: neither shows in its
// command line (ps) nor in anything it logs, the token works, and /readyz
// says ready. A wrong password ends the start at once (no retries until
// --start-timeout: trying again cannot help), still without showing it.
func TestGatewayProcessNATSCredentials(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{noAgent: true, natsAuth: true})
	ctx := testCtx(t)
	internal := st.internalURL(t)
	password, _ := internal.User.Password()
	user := internal.User.Username()
	bare := "nats://" + internal.Host
	const adminToken = "gateway-admin-token-0123456789"
	tokenFile := filepath.Join(t.TempDir(), "admin-token")
	if err := os.WriteFile(tokenFile, []byte(adminToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	gw := startGatewayProcess(t, password, "--nats-url", bare, "--nats-user", user, "--admin-token-file", tokenFile, "--http-addr", "127.0.0.1:0")
	base := gw.ready(t, ctx)
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", gw.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(cmdline), password) || strings.Contains(string(cmdline), adminToken) {
		t.Fatalf("a secret is in the gateway's command line: %q", cmdline)
	}
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		resp, err := http.Get(base + "readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("readyz %d", resp.StatusCode)
		}
		return nil
	})
	api := &client.Gateway{BaseURL: strings.TrimSuffix(base, "/"), Token: adminToken}
	if _, err := api.Create(ctx, client.CreateRequest{App: "test-pattern", Region: "no-agent-here"}); err != nil {
		t.Fatalf("a create with --admin-token-file's token: %v", err)
	}
	logged := gw.stop(t)
	if strings.Contains(logged, password) || strings.Contains(logged, adminToken) {
		t.Fatalf("a secret is in the gateway's log:\n%s", logged)
	}
	if !strings.Contains(logged, `nats_auth="user `+user+`"`) {
		t.Fatalf("the ready line does not say how it authenticated:\n%s", logged)
	}

	bad := startGatewayProcess(t, password+"-wrong", "--nats-url", bare, "--nats-user", user, "--start-timeout", "10m", "--http-addr", "127.0.0.1:0")
	if err := bad.wait(ctx); err == nil {
		t.Fatal("a gateway with a wrong NATS password started")
	}
	logged = bad.log()
	if !strings.Contains(strings.ToLower(logged), "authorization") || strings.Contains(logged, "waiting for NATS") || strings.Contains(logged, password) {
		t.Fatalf("a wrong password: want an authorization error without retries or the password:\n%s", logged)
	}
}

// gatewayProcess is a `streamstack gateway` child.
type gatewayProcess struct {
	cmd     *exec.Cmd
	url     chan string
	mu      sync.Mutex
	out     strings.Builder
	exited  chan struct{} // closed once its log is read and it was waited for
	exitErr error
}

func startGatewayProcess(t *testing.T, natsPassword string, args ...string) *gatewayProcess {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"gateway"}, args...)...)
	cmd.Env = append(os.Environ(), "STREAMSTACK_NATS_PASSWORD="+natsPassword, "STREAMSTACK_RECONCILE_INTERVAL=0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	g := &gatewayProcess{cmd: cmd, url: make(chan string, 1), exited: make(chan struct{})}
	go func() {
		defer close(g.exited)
		re := regexp.MustCompile(`msg="gateway ready" url=(\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			g.mu.Lock()
			g.out.WriteString(sc.Text() + "\n")
			g.mu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				g.url <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
		g.exitErr = cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-g.exited
	})
	return g
}

// ready waits for the ready line and answers the gateway's URL.
func (g *gatewayProcess) ready(t *testing.T, ctx context.Context) string {
	t.Helper()
	select {
	case u := <-g.url:
		return u
	case <-g.exited:
		t.Fatalf("gateway exited: %v\n%s", g.exitErr, g.log())
	case <-ctx.Done():
		t.Fatalf("gateway not ready:\n%s", g.log())
	}
	return ""
}

func (g *gatewayProcess) log() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.out.String()
}

// wait waits for the process to exit by itself.
func (g *gatewayProcess) wait(ctx context.Context) error {
	select {
	case <-g.exited:
		return g.exitErr
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop interrupts the process, waits for it and answers its log.
func (g *gatewayProcess) stop(t *testing.T) string {
	t.Helper()
	_ = g.cmd.Process.Signal(os.Interrupt)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := g.wait(ctx); err != nil {
		t.Errorf("gateway: %v\n%s", err, g.log())
	}
	return g.log()
}

// readyz answers a gateway's /readyz: its status and body.
func readyz(base string) (int, ops.Readiness, error) {
	var r ops.Readiness
	resp, err := http.Get(strings.TrimSuffix(base, "/") + ops.PathReadyz)
	if err != nil {
		return 0, r, err
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return resp.StatusCode, r, err
	}
	return resp.StatusCode, r, nil
}

// On a real cluster at R1, kill -9 of the node holding the requests stream
// leaves a gateway on another node unable to create: its /readyz says 503
// and names the stream (it said 200 before issue 15), while /healthz stays
// 200; with the node back, it is ready again.
func TestGatewayReadyzWhenItsRequestsStreamIsLost(t *testing.T) {
	checkLeaks(t)
	c := natscluster.StartTest(t, natscluster.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	limits := jetstream.DefaultLimits()
	limits.Replicas = 1
	const token = "readyz-test-token-0123456789"
	gw := startClusterGateway(t, c.Node(0), limits, token)
	leader := c.NodeNamed(streamInfo(t, ctx, gw.st.Res.JS, subjects.StreamRequests).Cluster.Leader)
	if leader == nil {
		t.Fatal("the requests stream has no leader")
	}
	if leader == gw.node {
		gw = startClusterGateway(t, c.Node(1), limits, token)
	}
	want := func(code int, missing bool) func() error {
		return func() error {
			got, r, err := readyz(gw.st.URL)
			if err != nil {
				return err
			}
			if got != code || slices.Contains(r.Missing, "stream "+subjects.StreamRequests) != missing {
				return fmt.Errorf("readyz %d %+v, want %d", got, r, code)
			}
			return nil
		}
	}
	natstest.CheckFor(t, 30*time.Second, 50*time.Millisecond, want(http.StatusOK, false))
	if err := c.Kill(leader); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, time.Minute, 50*time.Millisecond, want(http.StatusServiceUnavailable, true))
	resp, err := http.Get(gw.st.URL + "healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("healthz %d while a stream is lost", resp.StatusCode)
	}
	if err := c.Restart(ctx, leader); err != nil {
		t.Fatal(err)
	}
	natstest.CheckFor(t, time.Minute, 50*time.Millisecond, want(http.StatusOK, false))
}
