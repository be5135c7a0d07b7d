package jetstream_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/jetstream"
	"github.com/streamstack/streamstack/subjects"
)

func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// publishSignal publishes as the gateway and the Go client do: a JetStream
// publish that expects the signaling stream.
func publishSignal(ctx context.Context, js njs.JetStream, subject string, data []byte) error {
	_, err := js.PublishMsg(ctx, &nats.Msg{Subject: subject, Data: data}, njs.WithExpectStream(subjects.StreamSignal))
	return jetstream.LimitError(err)
}

func signalSubject(t *testing.T, session, dir, conn string) string {
	t.Helper()
	s, err := subjects.Signal(session, dir, conn)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// storedOn reads every message the signaling stream holds on subject.
func storedOn(ctx context.Context, t *testing.T, js njs.JetStream, subject string) [][]byte {
	t.Helper()
	s, err := js.Stream(ctx, subjects.StreamSignal)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, njs.WithSubjectFilter(subject))
	if err != nil {
		t.Fatal(err)
	}
	n := int(info.State.Subjects[subject])
	if n == 0 {
		return nil
	}
	cons, err := js.OrderedConsumer(ctx, subjects.StreamSignal, njs.OrderedConsumerConfig{FilterSubjects: []string{subject}})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := cons.FetchNoWait(n)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for m := range batch.Messages() {
		out = append(out, m.Data())
	}
	if err := batch.Error(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSignalFloodRefusedAtItsSubjectBudgetOnly(t *testing.T) {
	env := natstest.Start(t)
	ctx := testCtx(t)
	budget := jetstream.DefaultLimits().SignalMaxMsgsPerSubject
	flood := signalSubject(t, "attacker", subjects.ToStreamer, "c1")
	frame := bytes.Repeat([]byte("x"), 4<<10)

	for i := range budget {
		if err := publishSignal(ctx, env.JS, flood, frame); err != nil {
			t.Fatalf("frame %d of %d within the budget refused: %v", i+1, budget, err)
		}
	}
	for i := range 20 {
		err := publishSignal(ctx, env.JS, flood, frame)
		if !errors.Is(err, jetstream.ErrSubjectFull) || !errors.Is(err, jetstream.ErrLimit) {
			t.Fatalf("frame %d over the budget: err %v, want ErrSubjectFull", int(budget)+i+1, err)
		}
	}

	// Another session, while the flood is refused: every frame accepted and
	// kept, in order; so are the flooding session's other direction and the
	// flood's own frames within its budget (refusing evicted nothing).
	victim := signalSubject(t, "victim", subjects.ToStreamer, "c2")
	var sent [][]byte
	for i := range 40 {
		f := fmt.Appendf(nil, `{"type":"candidate","seq":%d,"pad":%q}`, i, bytes.Repeat([]byte("c"), 200))
		if i == 1 {
			f = fmt.Appendf(nil, `{"type":"offer","sdp":%q}`, bytes.Repeat([]byte("s"), 12<<10))
		}
		if err := publishSignal(ctx, env.JS, victim, f); err != nil {
			t.Fatalf("victim's frame %d refused: %v", i, err)
		}
		sent = append(sent, f)
	}
	if err := publishSignal(ctx, env.JS, signalSubject(t, "attacker", subjects.ToClient, "c1"), frame); err != nil {
		t.Fatalf("the flooding connection's other direction: %v", err)
	}
	got := storedOn(ctx, t, env.JS, victim)
	if len(got) != len(sent) {
		t.Fatalf("victim's subject keeps %d frames, sent %d", len(got), len(sent))
	}
	for i := range sent {
		if !bytes.Equal(got[i], sent[i]) {
			t.Fatalf("victim's frame %d changed", i)
		}
	}
	if n := len(storedOn(ctx, t, env.JS, flood)); n != int(budget) {
		t.Fatalf("flooded subject keeps %d frames, want its budget %d", n, budget)
	}
}

func TestSignalOverMaxSizeRefused(t *testing.T) {
	env := natstest.Start(t)
	ctx := testCtx(t)
	subj := signalSubject(t, "s1", subjects.ToStreamer, "c1")
	if err := publishSignal(ctx, env.JS, subj, bytes.Repeat([]byte("a"), jetstream.SignalMaxPayload)); err != nil {
		t.Fatalf("a frame of SignalMaxPayload (%d) refused: %v", jetstream.SignalMaxPayload, err)
	}
	for _, size := range []int{jetstream.SignalMaxMsgSize + 1, 1 << 20} {
		err := publishSignal(ctx, env.JS, subj, bytes.Repeat([]byte("a"), size))
		if !errors.Is(err, jetstream.ErrMsgTooLarge) {
			t.Fatalf("a frame of %d bytes: err %v, want ErrMsgTooLarge", size, err)
		}
	}
	if n := len(storedOn(ctx, t, env.JS, subj)); n != 1 {
		t.Fatalf("%d frames stored, want only the one that fits", n)
	}
}

// What the issue saw a NATS client store (300 × 1 MB) is refused by the
// stream itself, whoever publishes: each frame by size, and a flood of
// frames that fit by its subject's budget.
func TestSignalingBoundedForAnyPublisher(t *testing.T) {
	_, _, res := authServer(t)
	ctx := testCtx(t)
	ijs := res.JS

	subj := signalSubject(t, "s1", subjects.ToStreamer, "c1")
	big := make([]byte, 1<<20-1<<10)
	if err := publishSignal(ctx, ijs, subj, big); !errors.Is(err, jetstream.ErrMsgTooLarge) {
		t.Fatalf("a 1 MB frame: err %v, want ErrMsgTooLarge", err)
	}
	frame := make([]byte, jetstream.SignalMaxPayload)
	var refused error
	for range 300 {
		if refused = publishSignal(ctx, ijs, subj, frame); refused != nil {
			break
		}
	}
	if !errors.Is(refused, jetstream.ErrSubjectFull) {
		t.Fatalf("300 frames of 64 KiB: err %v, want ErrSubjectFull", refused)
	}
	s, _ := ijs.Stream(ctx, subjects.StreamSignal)
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(jetstream.DefaultLimits().SignalMaxMsgsPerSubject) * jetstream.SignalMaxMsgSize; info.State.Bytes > want {
		t.Fatalf("the stream holds %d bytes, over %d", info.State.Bytes, want)
	}
}

func TestServerLimitsInItsConfig(t *testing.T) {
	cfg := jetstream.DefaultServerConfig(t.TempDir())
	cfg.Listen = ""
	_, _, js := startServer(t, cfg)
	ctx := testCtx(t)
	if _, err := jetstream.Setup(ctx, js, jetstream.DefaultLimits()); err != nil {
		t.Fatalf("DefaultLimits do not fit DefaultServerConfig: %v", err)
	}
	ai, err := js.AccountInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ai.Limits.MaxConsumers != cfg.MaxConsumers {
		t.Fatalf("account max consumers %d, want %d", ai.Limits.MaxConsumers, cfg.MaxConsumers)
	}
	// A memory stream that would reserve more than the server's memory is
	// refused when it is made.
	_, err = js.CreateStream(ctx, njs.StreamConfig{Name: "BIG", Subjects: []string{"big.>"}, Storage: njs.MemoryStorage, MaxBytes: cfg.MaxMemory})
	if !errors.Is(jetstream.LimitError(err), jetstream.ErrServerFull) {
		t.Fatalf("a stream reserving the whole max memory beside ours: err %v, want ErrServerFull", err)
	}
}

// A stream with no limits of its own (as every stream had before) is still
// held to the server's memory: publishes beyond it are refused.
func TestServerMemoryBoundsAStreamWithoutLimits(t *testing.T) {
	cfg := jetstream.ServerConfig{StoreDir: t.TempDir(), MaxMemory: 4 << 20, MaxStore: 16 << 20, MaxConsumers: 2}
	_, _, js := startServer(t, cfg)
	ctx := testCtx(t)
	if _, err := js.CreateStream(ctx, njs.StreamConfig{Name: "OLD", Subjects: []string{"old.>"}, Storage: njs.MemoryStorage}); err != nil {
		t.Fatal(err)
	}
	frame := make([]byte, 512<<10)
	var err error
	var stored int
	for ; stored < 64; stored++ {
		if _, err = js.Publish(ctx, fmt.Sprintf("old.%d", stored), frame); err != nil {
			break
		}
	}
	if !errors.Is(jetstream.LimitError(err), jetstream.ErrServerFull) {
		t.Fatalf("after %d frames of 512 KiB: err %v, want ErrServerFull", stored, err)
	}
	if stored*len(frame) > int(cfg.MaxMemory) {
		t.Fatalf("%d frames of 512 KiB stored, over the server's %d bytes", stored, cfg.MaxMemory)
	}
	// The consumer cap applies per stream, to one without a cap of its own.
	for i := range cfg.MaxConsumers {
		if _, err := js.CreateConsumer(ctx, "OLD", njs.ConsumerConfig{}); err != nil {
			t.Fatalf("consumer %d: %v", i+1, err)
		}
	}
	_, err = js.CreateConsumer(ctx, "OLD", njs.ConsumerConfig{})
	if !errors.Is(jetstream.LimitError(err), jetstream.ErrTooManyConsumers) {
		t.Fatalf("consumer over the cap: err %v, want ErrTooManyConsumers", err)
	}
}

// oldSetup is Setup as it was before streams had limits.
func oldSetup(ctx context.Context, t *testing.T, js njs.JetStream) {
	t.Helper()
	for _, cfg := range []njs.StreamConfig{
		{Name: subjects.StreamRequests, Subjects: []string{subjects.RequestsAll}, Retention: njs.WorkQueuePolicy, Storage: njs.FileStorage, Duplicates: time.Minute},
		{Name: subjects.StreamEvents, Subjects: []string{subjects.EventsAll}, Storage: njs.FileStorage, MaxAge: 7 * 24 * time.Hour, MaxBytes: 1 << 30, Duplicates: 2 * time.Minute},
		{Name: subjects.StreamSignal, Subjects: []string{subjects.SignalAll}, Storage: njs.MemoryStorage, MaxAge: 2 * time.Minute, MaxMsgSize: 1 << 20},
	} {
		if _, err := js.CreateStream(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
	for _, cfg := range []njs.KeyValueConfig{
		{Bucket: subjects.BucketSessions, History: 1, Storage: njs.FileStorage},
		{Bucket: subjects.BucketAgents, TTL: 6 * time.Second, Storage: njs.MemoryStorage},
		{Bucket: subjects.BucketTokens, Storage: njs.FileStorage},
	} {
		if _, err := js.CreateKeyValue(ctx, cfg); err != nil {
			t.Fatal(err)
		}
	}
}

func TestRestartAgainstOldUnlimitedStreamsAppliesLimits(t *testing.T) {
	dir := t.TempDir()
	ctx := testCtx(t)
	start := func(cfg jetstream.ServerConfig) (*jetstream.Server, njs.JetStream) {
		srv, err := jetstream.StartServer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		nc, err := srv.Connect("test")
		if err != nil {
			srv.Shutdown()
			t.Fatal(err)
		}
		t.Cleanup(nc.Close)
		js, _ := njs.New(nc)
		return srv, js
	}

	// An older version's server and streams, with an event and a record.
	old, js := start(jetstream.ServerConfig{StoreDir: dir})
	oldSetup(ctx, t, js)
	ev, _ := subjects.Event("s1", "session.created")
	if _, err := js.Publish(ctx, ev, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	kv, _ := js.KeyValue(ctx, subjects.BucketSessions)
	if _, err := kv.Create(ctx, "s1", []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	old.Shutdown()

	srv, js := start(jetstream.DefaultServerConfig(dir))
	t.Cleanup(srv.Shutdown)
	l := jetstream.DefaultLimits()
	if _, err := jetstream.Setup(ctx, js, l); err != nil {
		t.Fatalf("Setup against the old streams: %v", err)
	}
	info := func(name string) njs.StreamConfig {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		return s.CachedInfo().Config
	}
	sig := info(subjects.StreamSignal)
	if sig.MaxMsgsPerSubject != l.SignalMaxMsgsPerSubject || sig.MaxBytes != l.SignalMaxBytes || sig.MaxMsgSize != jetstream.SignalMaxMsgSize ||
		sig.Discard != njs.DiscardNew || !sig.DiscardNewPerSubject || sig.MaxConsumers <= 0 || sig.MaxMsgs <= 0 || sig.MaxAge != l.SignalMaxAge {
		t.Fatalf("signaling stream not limited: %+v", sig)
	}
	evs := info(subjects.StreamEvents)
	if evs.MaxBytes != l.EventsMaxBytes || evs.MaxAge != l.EventsMaxAge || evs.MaxMsgSize <= 0 || evs.MaxConsumers <= 0 || evs.Discard != njs.DiscardOld {
		t.Fatalf("event stream not limited: %+v", evs)
	}
	req := info(subjects.StreamRequests)
	if req.MaxMsgsPerSubject != 1 || req.Discard != njs.DiscardNew || req.MaxBytes <= 0 || req.MaxMsgs <= 0 || req.MaxMsgSize <= 0 ||
		req.MaxConsumers <= 0 || req.MaxAge <= 0 || req.Retention != njs.WorkQueuePolicy {
		t.Fatalf("request stream not limited: %+v", req)
	}
	for _, b := range []string{subjects.BucketSessions, subjects.BucketAgents, subjects.BucketTokens} {
		if c := info("KV_" + b); c.MaxBytes <= 0 || c.MaxMsgSize <= 0 {
			t.Fatalf("bucket %s not limited: %+v", b, c)
		}
	}
	// What was there is still there.
	if s, _ := js.Stream(ctx, subjects.StreamEvents); s.CachedInfo().State.Msgs != 1 {
		t.Fatalf("event stream lost its event: %+v", s.CachedInfo().State)
	}
	if kv, err := js.KeyValue(ctx, subjects.BucketSessions); err != nil {
		t.Fatal(err)
	} else if _, err := kv.Get(ctx, "s1"); err != nil {
		t.Fatalf("session record: %v", err)
	}
	// And the limits hold.
	subj := signalSubject(t, "s1", subjects.ToStreamer, "c1")
	var err error
	for range l.SignalMaxMsgsPerSubject + 1 {
		if err = publishSignal(ctx, js, subj, []byte(`{"type":"candidate"}`)); err != nil {
			break
		}
	}
	if !errors.Is(err, jetstream.ErrSubjectFull) {
		t.Fatalf("flood after the update: err %v, want ErrSubjectFull", err)
	}
	if _, err := js.Publish(ctx, subj, make([]byte, jetstream.SignalMaxMsgSize+1)); !errors.Is(jetstream.LimitError(err), jetstream.ErrMsgTooLarge) {
		t.Fatalf("oversized frame after the update: err %v", err)
	}
}

func TestCheckLimits(t *testing.T) {
	l := jetstream.DefaultLimits()
	if err := jetstream.DefaultServerConfig("x").CheckLimits(l); err != nil {
		t.Fatalf("defaults do not fit: %v", err)
	}
	for name, cfg := range map[string]jetstream.ServerConfig{
		"memory":    {MaxMemory: l.SignalMaxBytes},
		"store":     {MaxStore: l.EventsMaxBytes},
		"consumers": {MaxConsumers: 10},
	} {
		if err := cfg.CheckLimits(l); !errors.Is(err, jetstream.ErrServerFull) {
			t.Errorf("%s: err %v, want ErrServerFull", name, err)
		}
	}
	if err := (jetstream.ServerConfig{}).CheckLimits(l); err != nil {
		t.Fatalf("no server limits: %v", err)
	}
}

func TestLimitsValidate(t *testing.T) {
	if err := jetstream.DefaultLimits().Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mutate := range map[string]func(*jetstream.Limits){
		"signal bytes":   func(l *jetstream.Limits) { l.SignalMaxBytes = 0 },
		"tiny signal":    func(l *jetstream.Limits) { l.SignalMaxBytes = 1024 },
		"per subject":    func(l *jetstream.Limits) { l.SignalMaxMsgsPerSubject = 0 },
		"signal age":     func(l *jetstream.Limits) { l.SignalMaxAge = 0 },
		"events bytes":   func(l *jetstream.Limits) { l.EventsMaxBytes = -1 },
		"agent ttl":      func(l *jetstream.Limits) { l.AgentTTL = 0 },
		"replicas":       func(l *jetstream.Limits) { l.Replicas = -1 },
		"events max age": func(l *jetstream.Limits) { l.EventsMaxAge = -time.Second },
	} {
		l := jetstream.DefaultLimits()
		mutate(&l)
		if err := l.Validate(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestLimitErrorLeavesOtherErrors(t *testing.T) {
	if jetstream.LimitError(nil) != nil {
		t.Fatal("nil became an error")
	}
	other := errors.New("other")
	if got := jetstream.LimitError(other); got != other {
		t.Fatalf("got %v", got)
	}
	if got := jetstream.LimitError(njs.ErrStreamNotFound); errors.Is(got, jetstream.ErrLimit) {
		t.Fatalf("stream not found is not a limit: %v", got)
	}
	if got := jetstream.LimitError(nats.ErrMaxPayload); !errors.Is(got, jetstream.ErrMsgTooLarge) {
		t.Fatalf("max payload: %v", got)
	}
	once := jetstream.LimitError(nats.ErrMaxPayload)
	if twice := jetstream.LimitError(once); twice != once {
		t.Fatalf("classified twice: %v", twice)
	}
}
