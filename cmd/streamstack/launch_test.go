package main

import (
	"testing"
	"time"
)

// An in-process streamer reads what a child reads: the agent's
// environment for it (the VA-API device, the session's runtime directory,
// the pinned bitrate) and settings given only in this process's own
// environment.
func TestStreamerConfigFromEnvIsAChildsReading(t *testing.T) {
	t.Setenv("STREAMSTACK_DISCONNECT_GRACE", "7s")
	c, err := streamerConfigFromEnv([]string{"STREAMSTACK_VAAPI_DEVICE=/dev/dri/renderD129",
		"STREAMSTACK_RUNTIME_DIR=/tmp/streamstack-session-x", "STREAMSTACK_SESSION_ID=abc",
		"STREAMSTACK_MIN_BITRATE_KBPS=2000", "STREAMSTACK_MAX_BITRATE_KBPS=2000", "STREAMSTACK_APP_ISOLATION=none"})
	if err != nil {
		t.Fatal(err)
	}
	if c.VAAPIDevice != "/dev/dri/renderD129" || c.RuntimeDir != "/tmp/streamstack-session-x" || c.SessionID != "abc" ||
		c.MinBitrateKbps != 2000 || c.MaxBitrateKbps != 2000 || c.AppIsolation != "none" || c.DisconnectGrace != 7*time.Second {
		t.Fatalf("%+v", c)
	}
	if _, err := streamerConfigFromEnv([]string{"STREAMSTACK_ICE_TCP=true"}); err == nil {
		t.Error("ICE-TCP in process accepted")
	}
	if _, err := streamerConfigFromEnv([]string{"STREAMSTACK_STATS_INTERVAL=soon"}); err == nil {
		t.Error("a malformed setting accepted")
	}
}

func TestParseTokenCreate(t *testing.T) {
	for _, args := range [][]string{{"--scope", "sessions", "--expires", "1h", "ci"}, {"ci", "--scope", "sessions", "--expires", "1h"}} {
		name, o, err := parseTokenCreate(args)
		if err != nil || name != "ci" || o.Scope != "sessions" || o.TTL != time.Hour {
			t.Errorf("%v: %q %+v %v", args, name, o, err)
		}
	}
	if name, o, err := parseTokenCreate([]string{"ops"}); err != nil || name != "ops" || o.Scope != "admin" || o.TTL != 0 {
		t.Errorf("defaults: %q %+v %v", name, o, err)
	}
	for _, args := range [][]string{nil, {"a", "b"}, {"--scope"}} {
		if _, _, err := parseTokenCreate(args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
