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
