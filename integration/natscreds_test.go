package integration

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nkeys"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
)

// operatorServer starts a nats-server in operator (JWT) mode on loopback,
// with one account allowed JetStream, and answers its URL and the .creds
// file (a user JWT and its seed) of a user of that account, mode 0600.
func operatorServer(t *testing.T) (string, string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	okp, err := nkeys.CreateOperator()
	must(err)
	opub, _ := okp.PublicKey()
	oc := jwt.NewOperatorClaims(opub)
	_, err = oc.Encode(okp)
	must(err)
	akp, err := nkeys.CreateAccount()
	must(err)
	apub, _ := akp.PublicKey()
	ac := jwt.NewAccountClaims(apub)
	ac.Limits.JetStreamLimits = jwt.JetStreamLimits{MemoryStorage: 1 << 30, DiskStorage: 8 << 30, Streams: -1, Consumer: -1}
	ajwt, err := ac.Encode(okp)
	must(err)
	ukp, err := nkeys.CreateUser()
	must(err)
	upub, _ := ukp.PublicKey()
	ujwt, err := jwt.NewUserClaims(upub).Encode(akp)
	must(err)
	seed, _ := ukp.Seed()
	creds, err := jwt.FormatUserConfig(ujwt, seed)
	must(err)
	path := filepath.Join(t.TempDir(), "user.creds")
	must(os.WriteFile(path, creds, 0o600))

	// Operator mode with JetStream wants a system account.
	skp, err := nkeys.CreateAccount()
	must(err)
	spub, _ := skp.PublicKey()
	sjwt, err := jwt.NewAccountClaims(spub).Encode(okp)
	must(err)
	resolver := &server.MemAccResolver{}
	must(resolver.Store(apub, ajwt))
	must(resolver.Store(spub, sjwt))
	s, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, JetStream: true, StoreDir: t.TempDir(),
		NoLog: true, NoSigs: true, TrustedOperators: []*jwt.OperatorClaims{oc}, AccountResolver: resolver, SystemAccount: spub})
	must(err)
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		t.Fatal("operator-mode nats-server not ready")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s.ClientURL(), path
}

// `streamstack gateway --nats-creds` reaches a NATS in operator mode with a
// user's .creds file (no password anywhere), sets the streams up and is
// ready; the file's path, not its content, is all its command line holds.
func TestGatewayProcessNATSCredsFile(t *testing.T) {
	checkLeaks(t)
	ctx := testCtx(t)
	natsURL, creds := operatorServer(t)
	gw := startGatewayProcess(t, "", "--nats-url", natsURL, "--nats-creds", creds, "--http-addr", "127.0.0.1:0")
	base := gw.ready(t, ctx)
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		code, r, err := readyz(base)
		if err != nil {
			return err
		}
		if code != http.StatusOK {
			return fmt.Errorf("readyz %d %+v", code, r)
		}
		return nil
	})
	logged := gw.stop(t)
	content, _ := os.ReadFile(creds)
	seedLine := strings.Split(string(content), "\n")
	for _, line := range seedLine {
		if strings.HasPrefix(line, "SU") && strings.Contains(logged, line) {
			t.Fatal("the user's seed is in the gateway's log")
		}
	}
	if !strings.Contains(logged, `nats_auth="creds file"`) {
		t.Fatalf("the ready line does not say how it authenticated:\n%s", logged)
	}

	// Without the file, that NATS refuses it at once.
	bad := startGatewayProcess(t, "", "--nats-url", natsURL, "--http-addr", "127.0.0.1:0")
	if err := bad.wait(ctx); err == nil {
		t.Fatal("a gateway without credentials started on an operator-mode NATS")
	}
}

// `streamstack agent --nats-user` with its password in the environment:
// it places a session whose streamer process reaches NATS with those
// credentials, handed over on its pipe, while neither the agent's nor the
// streamer's command line, nor the streamer's environment, holds the
// password.
func TestAgentProcessNATSUserReachesItsStreamers(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{noAgent: true, natsAuth: true})
	ctx := testCtx(t)
	internal := st.internalURL(t)
	password, _ := internal.User.Password()
	a := startProc(t, `msg="agent ready"`, append(slices.Clone(agentEnv), "STREAMSTACK_NATS_PASSWORD="+password),
		"agent", "--nats-url", "nats://"+internal.Host, "--nats-user", internal.User.Username(), "--metrics-addr", "",
		"--state-dir", t.TempDir(), "--cores", "1", "--units-per-core", "2")
	a.wait(t, ctx)
	small := session.Screen{Width: 640, Height: 360, FPS: 30}
	info, err := st.api.Create(ctx, client.CreateRequest{App: "test-pattern", Screen: &small})
	if err != nil {
		t.Fatal(err)
	}
	st.waitStatus(t, info.ID, func(s *session.Session) bool { return s.Status == session.StatusActive })
	streamers := streamersOf(a.cmd.Process.Pid)
	if len(streamers) == 0 {
		t.Fatal("no streamer process or host")
	}
	files := []string{fmt.Sprintf("/proc/%d/cmdline", a.cmd.Process.Pid)}
	for _, pid := range streamers {
		files = append(files, fmt.Sprintf("/proc/%d/cmdline", pid), fmt.Sprintf("/proc/%d/environ", pid))
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), password) {
			t.Fatalf("the NATS password is in %s", f)
		}
	}
	if err := st.api.Delete(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	st.waitStatus(t, info.ID, func(s *session.Session) bool { return s.Status.Ended() })
	waitNothingLeft(t, info.ID)
	a.stop(t)
}
