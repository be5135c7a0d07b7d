package jetstream_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/subjects"
)

func TestSetupIsIdempotent(t *testing.T) {
	env := natstest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	js, err := njs.New(env.Conn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := jetstream.Setup(ctx, js, jetstream.DefaultLimits()); err != nil {
		t.Fatalf("second Setup: %v", err)
	}
	for _, name := range []string{subjects.StreamRequests, subjects.StreamEvents, subjects.StreamSignal} {
		if _, err := js.Stream(ctx, name); err != nil {
			t.Errorf("stream %s: %v", name, err)
		}
	}
}

func TestInProcessServer(t *testing.T) {
	srv, err := jetstream.StartServer(jetstream.ServerConfig{StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	if srv.ClientURL() != "" {
		t.Fatalf("no listener expected, got %q", srv.ClientURL())
	}
	nc, err := srv.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

// A NATS client with an API token may publish only under its own service
// prefix and subscribe only in its own inbox: not JetStream's API, not
// the signaling or event subjects, not another client's inbox.
func TestTokenClientsAreScoped(t *testing.T) {
	srv, creds, res := authServer(t)
	internal := res.Conn
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := nats.Connect(srv.ClientURL(), nats.Token("tok-a")); err == nil {
		t.Fatal("a token client got in before the server could check tokens")
	}
	srv.SetTokenCheck(func(_ context.Context, tok string) (string, time.Time, error) {
		switch tok {
		case "tok-a":
			return "A", time.Time{}, nil
		case "tok-b":
			return "B", time.Time{}, nil
		case "tok-short":
			return "S", time.Now().Add(300 * time.Millisecond), nil
		}
		return "", time.Time{}, errors.New("unknown token")
	})
	for name, opt := range map[string]nats.Option{
		"no credentials":          nil,
		"an unknown token":        nats.Token("tok-x"),
		"a wrong password":        nats.UserInfo(creds.Internal.Name, "guess"),
		"the old client user":     nats.UserInfo("client", "anything"),
		"a token as the internal": nats.UserInfo(creds.Internal.Name, "tok-a"),
	} {
		opts := []nats.Option{nats.NoReconnect()}
		if opt != nil {
			opts = append(opts, opt)
		}
		if nc, err := nats.Connect(srv.ClientURL(), opts...); err == nil {
			nc.Close()
			t.Errorf("connected with %s", name)
		}
	}

	errs := make(chan error, 16)
	a, err := nats.Connect(srv.ClientURL(), nats.Token("tok-a"), nats.CustomInboxPrefix(subjects.Inbox("A")),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	refused := func(what string) {
		t.Helper()
		select {
		case err := <-errs:
			if !strings.Contains(err.Error(), "Permissions Violation") {
				t.Fatalf("%s: unexpected error %v", what, err)
			}
		case <-ctx.Done():
			t.Fatalf("%s was not refused", what)
		}
	}
	for _, subj := range []string{"_INBOX.>", subjects.Inbox("B") + ".>", subjects.SignalAll, subjects.EventsAll, ">"} {
		if _, err := a.SubscribeSync(subj); err != nil {
			t.Fatal(err)
		}
		refused("subscribing to " + subj)
	}
	back, _ := subjects.Signal("s1", subjects.ToClient, "c1")
	for _, subj := range []string{
		"$JS.API.INFO", "$JS.API.CONSUMER.CREATE." + subjects.StreamSignal + ".x." + back,
		"$JS.API.CONSUMER.MSG.NEXT." + subjects.StreamEvents + ".ops", "$KV." + subjects.BucketSessions + ".s1",
		subjects.ClientAPI("B") + ".sessions.create", subjects.API + ".*.sessions.create", subjects.API + ".sessions.create",
		back, "streamstack.request.s1",
	} {
		if err := a.Publish(subj, []byte(`{}`)); err != nil {
			t.Fatal(err)
		}
		refused("publishing to " + subj)
	}
	// Allowed: a request under its own id, answered in its own inbox.
	svc, err := internal.Subscribe(subjects.API+".*.sessions.create", func(m *nats.Msg) { _ = m.Respond([]byte("ok")) })
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = svc.Unsubscribe() }()
	if err := internal.Flush(); err != nil {
		t.Fatal(err)
	}
	if m, err := a.RequestWithContext(ctx, subjects.ClientAPI("A")+".sessions.create", []byte(`{}`)); err != nil || string(m.Data) != "ok" {
		t.Fatalf("own request: %v", err)
	}
	if _, err := njs.New(a); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		t.Fatalf("an allowed operation was refused: %v", err)
	default:
	}

	// A token that expires ends its connections then.
	closed := make(chan struct{})
	sc, err := nats.Connect(srv.ClientURL(), nats.Token("tok-short"), nats.NoReconnect(),
		nats.ClosedHandler(func(*nats.Conn) { close(closed) }))
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	select {
	case <-closed:
	case <-ctx.Done():
		t.Fatal("the connection of an expired token is still open")
	}
}

// A streamer's user reaches its own session's record, signaling, events
// and stats subject, and the TURN secret: not another session's, not the
// API tokens or the session-signing key.
func TestStreamerUserIsScopedToItsSession(t *testing.T) {
	srv, _, res := authServer(t)
	srv.SetStreamerCheck(func(id, pw string) bool { return pw == "pw-"+id })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, id := range []string{"s1", "s2"} {
		if _, err := res.Sessions.Put(ctx, id, []byte(`{"id":"`+id+`"}`)); err != nil {
			t.Fatal(err)
		}
	}
	for _, key := range []string{subjects.KeyTURNSecret, "session-signing-key", "api.0123456789abcdef"} {
		if _, err := res.Tokens.Put(ctx, key, []byte("secret "+key)); err != nil {
			t.Fatal(err)
		}
	}
	if nc, err := nats.Connect(srv.URLAs(jetstream.StreamerUser("s1"), "pw-s2"), nats.NoReconnect()); err == nil {
		nc.Close()
		t.Fatal("a streamer connected with another session's password")
	}
	errs := make(chan error, 16)
	nc, err := nats.Connect(srv.URLAs(jetstream.StreamerUser("s1"), "pw-s1"), nats.CustomInboxPrefix(subjects.StreamerInbox("s1")),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { errs <- err }))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := njs.New(nc)
	r, err := jetstream.Bind(ctx, js)
	if err != nil {
		t.Fatalf("bind: %v", err)
	}
	// Allowed: its own record, read, written and watched; its signaling;
	// its events; the TURN secret.
	e, err := r.Sessions.Get(ctx, "s1")
	if err != nil {
		t.Fatalf("own record: %v", err)
	}
	if _, err := r.Sessions.Update(ctx, "s1", []byte(`{"id":"s1","status":"active"}`), e.Revision()); err != nil {
		t.Fatalf("update own record: %v", err)
	}
	w, err := r.Sessions.Watch(ctx, "s1")
	if err != nil {
		t.Fatalf("watch own record: %v", err)
	}
	if u := <-w.Updates(); u == nil || u.Key() != "s1" {
		t.Fatalf("watch: %v", u)
	}
	_ = w.Stop()
	if _, err := r.Tokens.Get(ctx, subjects.KeyTURNSecret); err != nil {
		t.Fatalf("TURN secret: %v", err)
	}
	all, _ := subjects.SignalToStreamerAll("s1")
	if _, err := js.OrderedConsumer(ctx, subjects.StreamSignal, njs.OrderedConsumerConfig{FilterSubjects: []string{all}}); err != nil {
		t.Fatalf("own signaling: %v", err)
	}
	ev, _ := subjects.Event("s1", "session.active")
	if _, err := js.Publish(ctx, ev, []byte(`{}`)); err != nil {
		t.Fatalf("own event: %v", err)
	}
	// Refused: another session's record, signaling and events, the API
	// tokens and signing key.
	short := func() context.Context {
		c, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		t.Cleanup(cancel)
		return c
	}
	if _, err := r.Sessions.Get(short(), "s2"); err == nil {
		t.Error("read another session's record")
	}
	for _, key := range []string{"session-signing-key", "api.0123456789abcdef"} {
		if _, err := r.Tokens.Get(short(), key); err == nil {
			t.Errorf("read %s", key)
		}
	}
	other, _ := subjects.SignalToStreamerAll("s2")
	if _, err := js.OrderedConsumer(short(), subjects.StreamSignal, njs.OrderedConsumerConfig{FilterSubjects: []string{other}}); err == nil {
		t.Error("made a consumer of another session's signaling")
	}
	ev2, _ := subjects.Event("s2", "session.active")
	if _, err := js.Publish(short(), ev2, []byte(`{}`)); err == nil {
		t.Error("published another session's event")
	}
	if _, err := r.Sessions.Put(short(), "s2", []byte(`{}`)); err == nil {
		t.Error("wrote another session's record")
	}
	if _, err := nc.SubscribeSync(subjects.SignalAll); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errs:
		if !strings.Contains(err.Error(), "Permissions Violation") {
			t.Fatalf("unexpected error %v", err)
		}
	case <-ctx.Done():
		t.Fatal("subscribing to every session's signaling was not refused")
	}
}

// authResources are the streams and buckets, as the internal user set them
// up, and that user's connection.
type authResources struct {
	*jetstream.Resources
	Conn *nats.Conn
}

// authServer starts an embedded server with authentication on, as serve
// runs it, and sets its streams up; t's cleanup stops it.
func authServer(t *testing.T) (*jetstream.Server, jetstream.Credentials, authResources) {
	t.Helper()
	cfg := jetstream.DefaultServerConfig(t.TempDir())
	cfg.Listen = "127.0.0.1:-1"
	creds, err := jetstream.LoadOrCreateCredentials(filepath.Join(t.TempDir(), "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	creds.Apply(&cfg)
	srv, internal, js := startServer(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := jetstream.Setup(ctx, js, jetstream.DefaultLimits())
	if err != nil {
		t.Fatal(err)
	}
	return srv, creds, authResources{Resources: res, Conn: internal}
}

// startServer starts an embedded server with cfg and connects to it as
// its internal user; t's cleanup closes both.
func startServer(t *testing.T, cfg jetstream.ServerConfig) (*jetstream.Server, *nats.Conn, njs.JetStream) {
	t.Helper()
	srv, err := jetstream.StartServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Shutdown)
	nc, err := srv.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, _ := njs.New(nc)
	return srv, nc, js
}
