package fleet_test

import (
	"encoding/json"
	"testing"

	"github.com/streamstack/streamstack/fleet"
)

func TestBackendEncodes(t *testing.T) {
	b := fleet.Backend{Name: "h264_nvenc", Hardware: true, Codecs: []string{"H264"}}
	for codecs, want := range map[*[]string]bool{
		{}:              true, // no preference: any
		{"h264"}:        true,
		{"VP8", "H264"}: true,
		{"VP8"}:         false,
	} {
		if got := b.Encodes(*codecs); got != want {
			t.Errorf("Encodes(%v) = %v", *codecs, got)
		}
	}
}

func TestHeartbeatCarriesFreeUnitsPerBackend(t *testing.T) {
	h := fleet.Heartbeat{ID: "a", Backends: []fleet.Backend{
		{Name: "libvpx", Codecs: []string{"VP8"}, Pool: "cpu", TotalUnits: 8, UsedUnits: 2, FreeUnits: 6},
		{Name: "h264_nvenc", Hardware: true, Codecs: []string{"H264"}, Pool: "nvenc", TotalUnits: 37, FreeUnits: 37},
	}}
	data, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var back fleet.Heartbeat
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if b := back.Backends[1]; !b.Hardware || b.Pool != "nvenc" || b.FreeUnits != 37 {
		t.Fatalf("%+v from %s", b, data)
	}
}

// A degraded pool (a session's encoder fell back off it) and an
// overcommitted one add no free units, and hide none of the others'.
func TestFallbackDegradedPoolHasNoFreeUnits(t *testing.T) {
	h := fleet.Heartbeat{ID: "a", MaxSessions: 16, TotalUnits: 6, UsedUnits: 3, Backends: []fleet.Backend{
		{Name: "libvpx", Codecs: []string{"VP8"}, Pool: "cpu", TotalUnits: 2, UsedUnits: 3},
		{Name: "x264", Codecs: []string{"H264"}, Pool: "cpu", TotalUnits: 1, UsedUnits: 1.5},
		{Name: "h264_nvenc", Hardware: true, Codecs: []string{"H264"}, Pool: "nvenc", TotalUnits: 4, Degraded: true, Failures: 1},
		{Name: "h264_vaapi", Hardware: true, Codecs: []string{"H264"}, Pool: "vaapi", TotalUnits: 8, UsedUnits: 1, FreeUnits: 7},
	}}
	h.TotalUnits, h.UsedUnits = 14, 4
	if f := h.FreeUnits(); f != 7 {
		t.Fatalf("free %v, want vaapi's 7", f)
	}
	h.Sessions = 16
	if f := h.FreeUnits(); f != 0 {
		t.Fatalf("free %v at the session cap", f)
	}
}
