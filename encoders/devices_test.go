package encoders

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// fakeHost writes a /proc and /dev tree under a temporary root: NVIDIA
// GPUs by PCI address and model, render nodes by name and PCI vendor.
func fakeHost(t *testing.T, gpus map[string]string, nodes map[string]string) string {
	t.Helper()
	root := t.TempDir()
	write := func(path, data string) {
		t.Helper()
		path = filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for bus, model := range gpus {
		write("proc/driver/nvidia/gpus/"+bus+"/information",
			"Model: \t\t "+model+"\nIRQ:   \t\t 64\nBus Location: \t "+bus+"\nDevice Minor: \t 3\n")
	}
	for node, vendor := range nodes {
		write("dev/dri/"+node, "")
		if vendor != "" {
			write("sys/class/drm/"+node+"/device/vendor", vendor+"\n")
		}
	}
	write("dev/dri/card0", "") // not a render node
	return root
}

// Every NVIDIA GPU and every render node is a device of its own: GPUs
// indexed in PCI bus order (whatever their minor numbers), nodes in
// number order (renderD99 before renderD128, as text would not have it).
func TestFindDevices(t *testing.T) {
	root := fakeHost(t,
		map[string]string{"0000:af:00.0": "Tesla T4", "0000:3b:00.0": "NVIDIA L4"},
		map[string]string{"renderD128": "0x8086", "renderD99": "0x1002", "renderD129": ""})
	got := FindDevices(root)
	want := []Device{
		{Kind: PoolNVENC, Pool: "nvenc0", Path: "0", Model: "NVIDIA L4", BusID: "0000:3b:00.0"},
		{Kind: PoolNVENC, Pool: "nvenc1", Path: "1", Model: "Tesla T4", BusID: "0000:af:00.0"},
		{Kind: PoolVAAPI, Pool: "vaapi-renderD99", Path: "/dev/dri/renderD99", Model: "AMD"},
		{Kind: PoolVAAPI, Pool: "vaapi-renderD128", Path: "/dev/dri/renderD128", Model: "Intel"},
		{Kind: PoolVAAPI, Pool: "vaapi-renderD129", Path: "/dev/dri/renderD129"},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("devices\n got %+v\nwant %+v", got, want)
	}
	if got[1].String() != "Tesla T4, GPU 1, 0000:af:00.0" || got[3].String() != "Intel, /dev/dri/renderD128" {
		t.Errorf("strings %q, %q", got[1], got[3])
	}
	if d := FindDevices(t.TempDir()); len(d) != 0 {
		t.Errorf("empty host: %+v", d)
	}
}

func TestParsePool(t *testing.T) {
	for pool, want := range map[string][2]string{
		"cpu":              {PoolCPU, ""},
		"nvenc":            {PoolNVENC, ""},
		"vaapi":            {PoolVAAPI, ""},
		"nvenc0":           {PoolNVENC, "0"},
		"nvenc12":          {PoolNVENC, "12"},
		"vaapi-renderD129": {PoolVAAPI, "/dev/dri/renderD129"},
		"nvenc01":          {"", ""}, // not a name NVENCPool makes
		"nvenc+1":          {"", ""},
		"nvenc-1":          {"", ""},
		"vaapi-card0":      {"", ""},
		"vaapi-renderD":    {"", ""},
		"vaapi-renderD1/x": {"", ""},
		"gpu":              {"", ""},
	} {
		if k, d := ParsePool(pool); k != want[0] || d != want[1] {
			t.Errorf("ParsePool(%q) = %q, %q; want %q, %q", pool, k, d, want[0], want[1])
		}
	}
	for _, pool := range []string{"nvenc0", "nvenc7", "vaapi-renderD130"} {
		if !PoolHardware(pool) {
			t.Errorf("%s not hardware", pool)
		}
	}
	if got := PoolCodecs("nvenc3"); !slices.Equal(got, []string{H264}) {
		t.Errorf("nvenc3 codecs %v", got)
	}
	if got := PoolCodecs("vaapi-renderD128"); !slices.Equal(got, []string{H264, VP8}) {
		t.Errorf("vaapi-renderD128 codecs %v", got)
	}
	if PoolHardware("cpu") || PoolHardware("nvenc01") || len(PoolCodecs("gpu")) != 0 {
		t.Error("unknown pools are hardware or have codecs")
	}
}

// A streamer placed on a device's pool opens that device: Lookup gives
// the backend the pool's GPU index or render node, and keeps the pool.
func TestLookupDevicePools(t *testing.T) {
	for _, tc := range []struct {
		pool, codec, vaapiDevice string
		name, device             string
	}{
		{"nvenc1", H264, "", "h264_nvenc", "1"},
		{"nvenc", H264, "", "h264_nvenc", ""},
		{"vaapi-renderD129", H264, "/dev/dri/renderD128", "h264_vaapi", "/dev/dri/renderD129"},
		{"vaapi-renderD130", VP8, "", "vp8_vaapi", "/dev/dri/renderD130"},
		{"vaapi", VP8, "/dev/dri/renderD131", "vp8_vaapi", "/dev/dri/renderD131"},
		{"vaapi", H264, "", "h264_vaapi", DefaultVAAPIDevice},
	} {
		b, err := Lookup(tc.pool, tc.codec, tc.vaapiDevice)
		if err != nil {
			t.Errorf("%s %s: %v", tc.pool, tc.codec, err)
			continue
		}
		h, ok := b.(hardware)
		if !ok || h.info.Name != tc.name || h.info.Pool != tc.pool || h.device != tc.device || !h.info.Hardware {
			t.Errorf("%s %s: %#v, want %s on %q", tc.pool, tc.codec, b, tc.name, tc.device)
		}
	}
	for _, bad := range [][2]string{{"nvenc0", VP8}, {"nvenc01", H264}, {"vaapi-card0", H264}} {
		if _, err := Lookup(bad[0], bad[1], ""); err == nil {
			t.Errorf("%s %s found", bad[0], bad[1])
		}
	}
}

// Probe on a host with two GPUs and two render nodes reports every
// backend on every device, each in the device's pool (none works here,
// so each says why); a host with none keeps one pool per kind.
func TestProbeEveryDevice(t *testing.T) {
	root := fakeHost(t,
		map[string]string{"0000:3b:00.0": "Tesla T4", "0000:af:00.0": "Tesla T4"},
		map[string]string{"renderD128": "0x8086", "renderD129": "0x1002"})
	var pools []string
	for _, s := range Probe(ProbeConfig{Root: root, UnitsPerCore: 1}) {
		if !s.Hardware {
			continue
		}
		pools = append(pools, s.Name+"@"+s.Pool)
		if s.Available {
			continue // a host with the hardware
		}
		if s.Reason == "" || s.Device == "" {
			t.Errorf("%s on %s: no reason or device: %+v", s.Name, s.Pool, s)
		}
		if strings.HasPrefix(s.Pool, "vaapi-") && !strings.HasSuffix(s.Device, strings.TrimPrefix(s.Pool, "vaapi-")) {
			t.Errorf("%s: device %q", s.Pool, s.Device)
		}
	}
	want := []string{"h264_nvenc@nvenc0", "h264_nvenc@nvenc1",
		"h264_vaapi@vaapi-renderD128", "vp8_vaapi@vaapi-renderD128",
		"h264_vaapi@vaapi-renderD129", "vp8_vaapi@vaapi-renderD129"}
	if !slices.Equal(pools, want) {
		t.Errorf("hardware statuses %v, want %v", pools, want)
	}

	// A configured VA-API device is the only one, as pool "vaapi".
	pools = nil
	for _, s := range Probe(ProbeConfig{Root: root, UnitsPerCore: 1, VAAPIDevice: "/dev/dri/renderD200"}) {
		if s.Hardware {
			pools = append(pools, s.Name+"@"+s.Pool)
		}
	}
	want = []string{"h264_nvenc@nvenc0", "h264_nvenc@nvenc1", "h264_vaapi@vaapi", "vp8_vaapi@vaapi"}
	if !slices.Equal(pools, want) {
		t.Errorf("with a VA-API device: %v, want %v", pools, want)
	}

	pools = nil
	for _, s := range Probe(ProbeConfig{Root: t.TempDir(), UnitsPerCore: 1}) {
		if s.Hardware {
			pools = append(pools, s.Name+"@"+s.Pool)
		}
	}
	want = []string{"h264_nvenc@nvenc", "h264_vaapi@vaapi", "vp8_vaapi@vaapi"}
	if !slices.Equal(pools, want) {
		t.Errorf("no devices: %v, want %v", pools, want)
	}
}

// Each device is sized on its own: its pool's configured units, else its
// kind's, else the table's for its model.
func TestDeviceUnits(t *testing.T) {
	cfg := ProbeConfig{PoolUnits: map[string]float64{"nvenc1": 20, "vaapi": 12}}
	for _, tc := range []struct {
		d     Device
		units float64
	}{
		{Device{Kind: PoolNVENC, Pool: "nvenc0", Model: "Tesla T4"}, 37},
		{Device{Kind: PoolNVENC, Pool: "nvenc1", Model: "Tesla T4"}, 20},
		{Device{Kind: PoolNVENC, Pool: "nvenc2", Model: "Unknown"}, DefaultHardwareUnits},
		{Device{Kind: PoolVAAPI, Pool: "vaapi-renderD128"}, 12},
	} {
		if u, src := cfg.deviceUnits(tc.d); u != tc.units || src == "" {
			t.Errorf("%s: %v units (%s), want %v", tc.d.Pool, u, src, tc.units)
		}
	}
}
