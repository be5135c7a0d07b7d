package agent

import "testing"

func TestWithoutUserinfo(t *testing.T) {
	for in, want := range map[string]string{
		"nats://u:pw@127.0.0.1:4222":              "nats://127.0.0.1:4222",
		"nats://token@h:4222, tls://u:pw@h2:4443": "nats://h:4222,tls://h2:4443",
		"u:pw@h:4222":      "nats://h:4222", // nats.Connect's default scheme
		"nats://h:4222":    "nats://h:4222",
		"nats://u:p w@h:x": "", // does not parse: left out
	} {
		if got := withoutUserinfo(in); got != want {
			t.Errorf("withoutUserinfo(%q) = %q, want %q", in, got, want)
		}
	}
}
