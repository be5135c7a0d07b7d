package fleet_test

import (
	"encoding/json"
	"strings"
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

// The app budget travels as new, omitted-when-zero fields: an agent that
// reports none reads as one whose apps are not limited by its heartbeat,
// and an older heartbeat still decodes.
func TestHeartbeatAppBudget(t *testing.T) {
	h := fleet.Heartbeat{ID: "a", AppCPUTotal: 4, AppCPUFree: 1.5, AppMemoryTotalMB: 8192, AppMemoryFreeMB: 1024}
	data, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	var back fleet.Heartbeat
	if err := json.Unmarshal(data, &back); err != nil || back.AppCPUTotal != 4 || back.AppCPUFree != 1.5 ||
		back.AppMemoryTotalMB != 8192 || back.AppMemoryFreeMB != 1024 {
		t.Fatalf("%+v %v from %s", back, err, data)
	}
	for _, c := range []struct {
		cpu    float64
		mem    int
		fits   bool
		reason string
	}{
		{1.5, 1024, true, "exactly what is free"},
		{0, 0, true, "the test pattern"},
		{2, 512, false, "too much CPU"},
		{1, 2048, false, "too much memory"},
	} {
		if got := h.FitsApp(c.cpu, c.mem); got != c.fits {
			t.Errorf("%s: FitsApp(%v, %d) = %v", c.reason, c.cpu, c.mem, got)
		}
	}
	full := fleet.Heartbeat{ID: "a", AppCPUTotal: 4, AppMemoryTotalMB: 8192}
	if full.FitsApp(0.5, 256) || !full.FitsApp(0, 0) {
		t.Error("an agent with nothing free")
	}
	var old fleet.Heartbeat
	if err := json.Unmarshal([]byte(`{"id":"old","region":"r","total_units":2,"used_units":0,"sessions":0,"max_sessions":16,"backends":null}`), &old); err != nil {
		t.Fatal(err)
	}
	if !old.FitsApp(64, 1<<20) {
		t.Error("an agent reporting no app budget is not taken to fit")
	}
	plain, _ := json.Marshal(fleet.Heartbeat{ID: "p"})
	if strings.Contains(string(plain), "app_") {
		t.Errorf("zero app fields on the wire: %s", plain)
	}
}
