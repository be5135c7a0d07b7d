package integration

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/subjects"
)

// serviceCall is a NATS user's request to the session service.
func serviceCall(t *testing.T, nc *nats.Conn, op, body string) map[string]any {
	t.Helper()
	msg, err := nc.Request(subjects.API+".sessions."+op, []byte(body), 10*time.Second)
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	var env map[string]any
	if err := json.Unmarshal(msg.Data, &env); err != nil || env["status"] != "success" {
		t.Fatalf("%s answered %s (%v)", op, msg.Data, err)
	}
	return env["metadata"].(map[string]any)
}

// A client with only a NATS connection and the client user's credentials
// runs a whole session: create over the micro service, signaling over the
// documented subjects, frames decoded.
func TestNATSOnlyClientStreams(t *testing.T) {
	checkLeaks(t)
	st := startStack(t, stackOptions{natsAuth: true})
	ctx := testCtx(t)
	nc, err := nats.Connect(st.NATSURL, nats.Name("nats-user"), nats.UserInfo(st.clientUser.Name, st.clientUser.Password))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := njs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	meta := serviceCall(t, nc, "create", `{"app":"test-pattern","screen":{"width":1280,"height":720,"fps":30}}`)
	id := meta["id"].(string)
	sig, err := client.NATSSignaler(ctx, js, id)
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
	if rec := serviceCall(t, nc, "delete", `{"id":"`+id+`"}`); rec["status"] != "terminating" {
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
	st := startStack(t, stackOptions{noAgent: true})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	nats := natsCLI(t)
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, nats, append([]string{"--server", st.NATSURL}, args...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("nats %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := run("req", "--raw", subjects.API+".sessions.create", `{"app":"test-pattern"}`)
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
