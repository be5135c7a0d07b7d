package encoders_test

import (
	"errors"
	"math"
	"testing"

	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/internal/yuv"
)

func TestProbe(t *testing.T) {
	inv := encoders.Probe(encoders.ProbeConfig{Cores: 2, Headroom: 0.5, CalibrationFrames: 10})
	if len(inv) != len(encoders.All("")) {
		t.Fatalf("%d statuses for %d backends", len(inv), len(encoders.All("")))
	}
	for _, s := range inv {
		t.Logf("%-10s %-5s %-4s available=%v units=%.2f per-core=%.2f device=%q reason=%q",
			s.Name, s.Pool, s.Codec, s.Available, s.Units, s.UnitsPerCore, s.Device, s.Reason)
		switch {
		case !s.Hardware:
			if !s.Available || s.UnitsPerCore <= 0 || math.Abs(s.Units-2*s.UnitsPerCore*0.5) > 1e-9 {
				t.Errorf("%s: %+v", s.Name, s)
			}
		case s.Available:
			if s.Units <= 0 || s.Source == "" {
				t.Errorf("%s available without units: %+v", s.Name, s)
			}
		default:
			if s.Reason == "" || s.Units != 0 {
				t.Errorf("%s unavailable without a reason: %+v", s.Name, s)
			}
		}
	}
}

func TestProbeConfiguredUnits(t *testing.T) {
	inv := encoders.Probe(encoders.ProbeConfig{Cores: 3, UnitsPerCore: 2, Headroom: 0.5})
	for _, s := range inv {
		if !s.Hardware && (s.Units != 6 || s.Source != "configured units per core") {
			t.Errorf("%s: %+v", s.Name, s)
		}
	}
}

func TestCalibrate(t *testing.T) {
	for _, codec := range []string{encoders.VP8, encoders.H264} {
		b, err := encoders.Lookup(encoders.PoolCPU, codec, "")
		if err != nil {
			t.Fatal(err)
		}
		upc, err := encoders.Calibrate(b, 10)
		if err != nil {
			t.Fatal(err)
		}
		// Any machine that runs the tests encodes 720p faster than a
		// frame a second and slower than 100 streams a core.
		if upc < 1.0/30 || upc > 100 {
			t.Errorf("%s: %.2f 720p30 streams per core", codec, upc)
		}
		t.Logf("%s (%s): %.2f 720p30 streams per core", codec, b.Info().Name, upc)
	}
}

func TestSoftwareOpenEncode(t *testing.T) {
	for _, b := range encoders.All("") {
		if b.Info().Hardware {
			continue
		}
		enc, err := b.Open(encoders.Params{Width: 320, Height: 240, FPS: 30})
		if err != nil {
			t.Fatal(err)
		}
		img, _ := yuv.NewImage(320, 240)
		out, key, err := enc.Encode(img, true, nil)
		if err != nil || len(out) == 0 || !key {
			t.Errorf("%s: %d bytes key=%v err=%v", b.Info().Name, len(out), key, err)
		}
		if err := enc.SetBitrate(500); err != nil {
			t.Error(err)
		}
		enc.Close()
	}
}

// TestHardwareEncode encodes with each hardware backend where its device
// works, and otherwise skips with the reason the open gave.
func TestHardwareEncode(t *testing.T) {
	for _, b := range encoders.All("") {
		if !b.Info().Hardware {
			continue
		}
		t.Run(b.Info().Name, func(t *testing.T) {
			enc, err := b.Open(encoders.Params{Width: 1280, Height: 720, FPS: 30})
			if err != nil {
				if !errors.Is(err, encoders.ErrUnavailable) {
					t.Fatalf("open: %v, want ErrUnavailable", err)
				}
				t.Skipf("no device: %v", err)
			}
			defer enc.Close()
			img, _ := yuv.NewImage(1280, 720)
			var n int
			for i := range 10 {
				out, _, err := enc.Encode(img, i == 0, nil)
				if err != nil {
					t.Fatal(err)
				}
				n += len(out)
			}
			if n == 0 {
				t.Fatal("no output")
			}
		})
	}
}

func TestNVENCAbsentSaysSo(t *testing.T) {
	for _, s := range encoders.Probe(encoders.ProbeConfig{UnitsPerCore: 1}) {
		if s.Name == "h264_nvenc" && !s.Available && len(s.Reason) < len("no NVENC: ") {
			t.Errorf("reason %q", s.Reason)
		}
		if s.Name == "h264_nvenc" && !s.Available && s.Reason[:len("no NVENC")] != "no NVENC" {
			t.Errorf("reason %q, want no NVENC: ...", s.Reason)
		}
	}
}

func TestPools(t *testing.T) {
	inv := []encoders.Status{
		{Info: encoders.Info{Name: "libvpx", Pool: "cpu", Codec: "VP8"}, Available: true, Units: 4},
		{Info: encoders.Info{Name: "x264", Pool: "cpu", Codec: "H264"}, Available: true, Units: 8},
		{Info: encoders.Info{Name: "h264_nvenc", Pool: "nvenc", Codec: "H264", Hardware: true}, Available: true, Units: 37},
		{Info: encoders.Info{Name: "h264_vaapi", Pool: "vaapi", Codec: "H264", Hardware: true}, Reason: "no device"},
	}
	pools := encoders.Pools(inv)
	if len(pools) != 2 {
		t.Fatalf("%+v", pools)
	}
	cpu, nv := pools[0], pools[1]
	if cpu.Capacity != 8 || cpu.Cost["VP8"] != 2 || cpu.Cost["H264"] != 1 || cpu.Backends["VP8"] != "libvpx" {
		t.Errorf("cpu %+v", cpu)
	}
	if !nv.Hardware || nv.Capacity != 37 || nv.Cost["H264"] != 1 || len(nv.Cost) != 1 {
		t.Errorf("nvenc %+v", nv)
	}
}

func TestHardwareUnitsTable(t *testing.T) {
	if u, src := encoders.HardwareUnits("nvenc", "Tesla T4"); u != 37 || src == "" {
		t.Errorf("T4: %v %q", u, src)
	}
	if u, _ := encoders.HardwareUnits("nvenc", "NVIDIA GeForce RTX 4090"); u != 8 {
		t.Errorf("GeForce: %v", u)
	}
	if u, _ := encoders.HardwareUnits("vaapi", ""); u != encoders.DefaultHardwareUnits {
		t.Errorf("VA-API: %v", u)
	}
}

func TestLookup(t *testing.T) {
	if _, err := encoders.Lookup("nvenc", "VP8", ""); !errors.Is(err, encoders.ErrUnknown) {
		t.Errorf("nvenc VP8: %v", err)
	}
	if b, err := encoders.Lookup("vaapi", "VP8", ""); err != nil || b.Info().Name != "vp8_vaapi" {
		t.Errorf("vaapi VP8: %v", err)
	}
}
