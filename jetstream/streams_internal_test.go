package jetstream

import "testing"

func TestKeepReplicasNeverLowers(t *testing.T) {
	for _, c := range []struct{ have, want, got int }{
		{3, 1, 3}, // an operator's R3 stays R3
		{1, 3, 3},
		{0, 0, 1},
		{5, 3, 5},
	} {
		if got := keepReplicas(c.have, c.want); got != c.got {
			t.Errorf("keepReplicas(%d, %d) = %d, want %d", c.have, c.want, got, c.got)
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
	if got := srv.ns.GlobalAccount().JetStreamUsage().Limits.MaxConsumers; got != cfg.MaxConsumers {
		t.Fatalf("account max consumers %d, want %d", got, cfg.MaxConsumers)
	}
	for _, s := range streamConfigs(DefaultLimits()) {
		if s.MaxBytes == 0 || s.MaxMsgSize <= 0 || s.MaxConsumers <= 0 {
			t.Errorf("stream %s lacks a limit: %+v", s.Name, s)
		}
	}
}
