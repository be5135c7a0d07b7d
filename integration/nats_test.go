package integration

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"

	"github.com/streamstack/streamstack/auth"
	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/certfile"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/subjects"
)

// serviceCall is a NATS client's request to the session service under
// its token's id; it fails the test unless the answer is a success.
func serviceCall(t *testing.T, nc *nats.Conn, tokenID, op, body string) map[string]any {
	t.Helper()
	status, env := serviceTry(t, nc, tokenID, op, body)
	if status >= 300 {
		t.Fatalf("%s answered %d %v", op, status, env)
	}
	return env["metadata"].(map[string]any)
}

// serviceTry is serviceCall that answers the status and envelope.
func serviceTry(t *testing.T, nc *nats.Conn, tokenID, op, body string) (int, map[string]any) {
	t.Helper()
	msg, err := nc.Request(subjects.ClientAPI(tokenID)+".sessions."+op, []byte(body), 10*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	var env map[string]any
	if err := json.Unmarshal(msg.Data, &env); err != nil {
		t.Fatalf("%s answered %s (%v)", op, msg.Data, err)
	}
	code, _ := env["status_code"].(float64)
	return int(code), env
}

// tokenClient connects to the stack's NATS as an API token's client.
func tokenClient(t *testing.T, url, token, tokenID string, errs chan<- error) *nats.Conn {
	t.Helper()
	opts := []nats.Option{nats.Name("nats-user"), nats.Token(token), nats.CustomInboxPrefix(subjects.Inbox(tokenID))}
	if errs != nil {
		opts = append(opts, nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	}
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	return nc
}

// signalingOf reads the signaling connection of a create or join answer.
func signalingOf(t *testing.T, meta map[string]any) client.NATSSignaling {
	t.Helper()
	b, _ := json.Marshal(meta["signaling"])
	var sig client.NATSSignaling
	if err := json.Unmarshal(b, &sig); err != nil || sig.Send == "" || sig.Deliver == "" {
		t.Fatalf("signaling %s (%v)", b, err)
	}
	return sig
}

// A client with only a NATS connection and an API token runs a whole
// session: create over the micro service, signaling through it, frames
// decoded. Another token's client, which the issue saw read any session's
// signaling, can neither read nor write this one's.
func TestNATSOnlyClientStreams(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{natsAuth: true})
	ctx := testCtx(t)
	nc := tokenClient(t, st.NATSURL, st.token, st.tokenID, nil)
	meta := serviceCall(t, nc, st.tokenID, "create", `{"app":"test-pattern","screen":{"width":1280,"height":720,"fps":30}}`)
	id := meta["id"].(string)
	sigAns := signalingOf(t, meta)
	sig, err := client.NATSSignaler(nc, sigAns)
	if err != nil {
		t.Fatal(err)
	}
	peer, err := client.NewPeer(sig, client.Options{Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer peer.Close()
	if err := peer.Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if err := peer.WaitFrames(ctx, 60); err != nil {
		t.Fatal(err)
	}
	if got := peer.Stats().LastStamp.Frame; got < 59 {
		t.Fatalf("frame counter %d after 60 frames", got)
	}

	// The other token's client.
	other, otherInfo, err := st.Tokens.CreateScoped(ctx, "other", auth.Options{Scope: auth.ScopeSessions})
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	onc := tokenClient(t, st.NATSURL, other, otherInfo.ID, errs)
	if status, env := serviceTry(t, onc, otherInfo.ID, "join", `{"id":"`+id+`"}`); status != 404 {
		t.Fatalf("another token joined the session: %d %v", status, env)
	}
	if status, _ := serviceTry(t, onc, otherInfo.ID, "get", `{"id":"`+id+`"}`); status != 404 {
		t.Fatalf("another token read the session: %d", status)
	}
	// Its own subject with this connection's id: the id is signed for
	// the token that opened it.
	send, _ := subjects.SignalSend(otherInfo.ID, id, sigAns.ConnID)
	if m, err := onc.Request(send, []byte(`{"type":"discover"}`), 10*time.Second); err != nil || m.Header.Get(micro.ErrorCodeHeader) != "404" {
		t.Fatalf("another token sent on this connection: %v %v %s", err, m.Header, m.Data)
	}
	// This client's inbox and subjects, and JetStream: refused.
	if _, err := onc.SubscribeSync(sigAns.Deliver); err != nil {
		t.Fatal(err)
	}
	if err := onc.Publish(sigAns.Send, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	back, _ := subjects.Signal(id, subjects.ToClient, sigAns.ConnID)
	if err := onc.Publish("$JS.API.CONSUMER.CREATE."+subjects.StreamSignal+".x."+back, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		select {
		case err := <-errs:
			if !strings.Contains(err.Error(), "Permissions Violation") {
				t.Fatalf("unexpected error %v", err)
			}
		case <-ctx.Done():
			t.Fatal("another token's client was not refused")
		}
	}
	if err := peer.WaitFrames(ctx, 30); err != nil {
		t.Fatalf("the session stopped streaming: %v", err)
	}
	if rec := serviceCall(t, nc, st.tokenID, "delete", `{"id":"`+id+`"}`); rec["status"] != "terminating" {
		t.Fatalf("delete: %v", rec)
	}
}

// natsCLI finds the real nats CLI, which the Taskfile and CI install.
func natsCLI(t *testing.T) string {
	if p, err := exec.LookPath("nats"); err == nil {
		return p
	}
	gopath, err := exec.Command("go", "env", "GOPATH").Output()
	if err == nil {
		p := filepath.Join(strings.TrimSpace(string(gopath)), "bin", "nats")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatal("the nats CLI is not installed: run scripts/install-deps.sh (go tool task deps)")
	return ""
}

func TestNATSCLIUsesService(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{noAgent: true, natsAuth: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nats := natsCLI(t)
	run := func(args ...string) string {
		t.Helper()
		// The token goes in the environment, as the README does it.
		cmd := exec.CommandContext(ctx, nats, append([]string{"--server", st.NATSURL, "--inbox-prefix", subjects.Inbox(st.tokenID)}, args...)...)
		cmd.Env = append(os.Environ(), "NATS_TOKEN="+st.token)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("nats %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := run("req", "--raw", subjects.ClientAPI(st.tokenID)+".sessions.create", `{"app":"test-pattern"}`)
	var env struct {
		Status     string `json:"status"`
		StatusCode int    `json:"status_code"`
		Metadata   struct {
			ID string `json:"id"`
		} `json:"metadata"`
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(out)), &env); err != nil || env.StatusCode != 201 || env.Metadata.ID == "" {
		t.Fatalf("nats req create: %q (%v)", out, err)
	}
	if _, err := st.api.Get(ctx, env.Metadata.ID); err != nil {
		t.Fatalf("the session nats created is not in the API: %v", err)
	}
	if ls := run("micro", "ls"); !strings.Contains(ls, "streamstack") {
		t.Fatalf("nats micro ls:\n%s", ls)
	}
	var stats struct {
		Endpoints []struct {
			Name        string `json:"name"`
			NumRequests int    `json:"num_requests"`
		} `json:"endpoints"`
	}
	raw := run("micro", "stats", "streamstack", "--json")
	if err := json.Unmarshal([]byte(raw), &stats); err != nil {
		// --json prints one document per instance in an array.
		var many []json.RawMessage
		if err2 := json.Unmarshal([]byte(raw), &many); err2 != nil || len(many) == 0 {
			t.Fatalf("nats micro stats: %q (%v)", raw, err)
		}
		_ = json.Unmarshal(many[0], &stats)
	}
	created := 0
	for _, e := range stats.Endpoints {
		if e.Name == "create" {
			created = e.NumRequests
		}
	}
	if created != 1 {
		t.Fatalf("nats micro stats counts %d creates:\n%s", created, raw)
	}
}

// With TLS required from other hosts, the nats CLI coming from this host's
// own non-loopback address creates a session over TLS (trusting the
// certificate with --tlsca), and is refused in the clear.
func TestNATSCLIOverTLS(t *testing.T) {
	checkLeaks(t)
	ip := natstest.NonLoopbackIPv4(t)
	certFile, keyFile, err := certfile.WriteSelfSigned(t.TempDir(), ip, 1)
	if err != nil {
		t.Fatal(err)
	}
	certs, err := certfile.New(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	st := startStack(t, stackOptions{noAgent: true, natsAuth: true, server: func(c *jetstream.ServerConfig) {
		// Every address: the stack's own connections stay on loopback.
		c.Listen = "0.0.0.0:-1"
		c.TLS = &tls.Config{GetCertificate: certs.GetCertificate, MinVersion: tls.VersionTLS12}
		c.RequireTLSRemote = true
	}})
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(st.Server.ClientURL(), "nats://"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	natsBin := natsCLI(t)
	run := func(server string, extra ...string) (string, error) {
		args := append([]string{"--server", server, "--inbox-prefix", subjects.Inbox(st.tokenID)}, extra...)
		args = append(args, "req", "--raw", subjects.ClientAPI(st.tokenID)+".sessions.create", `{"app":"test-pattern"}`)
		cmd := exec.CommandContext(ctx, natsBin, args...)
		cmd.Env = append(os.Environ(), "NATS_TOKEN="+st.token)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("tls://"+net.JoinHostPort(ip, port), "--tlsca", certFile)
	if err != nil || !strings.Contains(out, `"status_code":201`) {
		t.Fatalf("create over TLS: %v\n%s", err, out)
	}
	if out, err := run("nats://" + net.JoinHostPort(ip, port)); err == nil {
		t.Fatalf("a plain client from another address was served:\n%s", out)
	}
}
