package jetstream

import (
	"context"
	"testing"
	"time"

	njs "github.com/nats-io/nats.go/jetstream"
)

func TestReplicasFor(t *testing.T) {
	for _, c := range []struct{ have, want, got int }{
		{3, 0, 3}, // unset: an operator's R3 stays R3
		{0, 0, 1}, // unset, new: R1
		{1, 3, 3}, // a number applies, up
		{3, 1, 1}, // and down (with a warning)
		{5, 3, 3},
	} {
		if got := replicasFor(c.have, c.want); got != c.got {
			t.Errorf("replicasFor(%d, %d) = %d, want %d", c.have, c.want, got, c.got)
		}
	}
}

// The embedded server's budgets are in its JetStream configuration.
func TestServerConfigAppliesLimits(t *testing.T) {
	cfg := DefaultServerConfig(t.TempDir())
	cfg.Listen = ""
	srv, err := StartServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	jc := srv.ns.JetStreamConfig()
	if jc == nil || jc.MaxMemory != cfg.MaxMemory || jc.MaxStore != cfg.MaxStore {
		t.Fatalf("JetStream config %+v, want max memory %d and max store %d", jc, cfg.MaxMemory, cfg.MaxStore)
	}
	if !jc.SyncAlways {
		t.Fatalf("JetStream config %+v: the default does not sync every write", jc)
	}
	if got := srv.ns.GlobalAccount().JetStreamUsage().Limits.MaxConsumers; got != cfg.MaxConsumers {
		t.Fatalf("account max consumers %d, want %d", got, cfg.MaxConsumers)
	}
	for _, s := range streamConfigs(DefaultLimits()) {
		if s.MaxBytes == 0 || s.MaxMsgSize <= 0 || s.MaxConsumers <= 0 {
			t.Errorf("stream %s lacks a limit: %+v", s.Name, s)
		}
	}
}

// An interval instead of always is nats-server's sync_interval.
func TestServerSyncInterval(t *testing.T) {
	cfg := DefaultServerConfig(t.TempDir())
	cfg.Listen, cfg.Sync = "", Sync(5*time.Second)
	srv, err := StartServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	if jc := srv.ns.JetStreamConfig(); jc.SyncAlways || jc.SyncInterval != 5*time.Second {
		t.Fatalf("JetStream config %+v, want a sync every 5s", jc)
	}
}

func TestParseSync(t *testing.T) {
	for in, want := range map[string]Sync{"always": SyncAlways, "ALWAYS": SyncAlways, "1s": Sync(time.Second), "2m": Sync(2 * time.Minute)} {
		got, err := ParseSync(in)
		if err != nil || got != want {
			t.Errorf("ParseSync(%q) = %v, %v; want %v", in, got, err, want)
		}
		if back, err := ParseSync(got.String()); err != nil || back != got {
			t.Errorf("ParseSync(%q.String()) = %v, %v", in, back, err)
		}
	}
	for _, in := range []string{"", "never", "0", "-1s", "5"} {
		if _, err := ParseSync(in); err == nil {
			t.Errorf("ParseSync(%q) took it", in)
		}
	}
}

// A second Setup with the same limits finds nothing to change: no stream
// or bucket is updated (an update races consumers being created, inside
// nats-server), while other limits still are.
func TestSetupAgainChangesNothing(t *testing.T) {
	srv, err := StartServer(DefaultServerConfig(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	nc, err := srv.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := njs.New(nc)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l := DefaultLimits()
	if _, err := Setup(ctx, js, l); err != nil {
		t.Fatal(err)
	}
	for _, want := range streamConfigs(l) {
		s, err := js.Stream(ctx, want.Name)
		if err != nil {
			t.Fatal(err)
		}
		want.Replicas = 1
		if !covers(s.CachedInfo().Config, want) {
			t.Errorf("stream %s: %+v does not cover %+v", want.Name, s.CachedInfo().Config, want)
		}
	}
	for _, b := range bucketConfigs(l) {
		s, err := js.Stream(ctx, "KV_"+b.cfg.Bucket)
		if err != nil {
			t.Fatal(err)
		}
		if !bucketUnchanged(s.CachedInfo().Config, b.cfg) {
			t.Errorf("bucket %s: %+v is not %+v", b.cfg.Bucket, s.CachedInfo().Config, b.cfg)
		}
	}
	changed := streamConfigs(l)[0]
	changed.MaxAge++
	unlimited := streamConfigs(l)[0]
	unlimited.MaxBytes = 0 // no limit: applied to a stream that has one
	if covers(streamConfigs(l)[0], unlimited) {
		t.Fatal("covers misses a limit lifted")
	}
	if covers(changed, streamConfigs(l)[0]) || !covers(streamConfigs(l)[0], streamConfigs(l)[0]) {
		t.Fatal("covers misses a changed field")
	}
}
