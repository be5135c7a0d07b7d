package encoders

import (
	"cmp"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/streamstack/streamstack/internal/yuv"
	"github.com/streamstack/streamstack/streamer/pattern"
)

// ProbeConfig says what Probe may assume.
type ProbeConfig struct {
	// VAAPIDevice is the render node of the VA-API backends; empty:
	// DefaultVAAPIDevice.
	VAAPIDevice string
	// Cores the software backends may use; zero: all of them.
	Cores int
	// Headroom is the share of measured software capacity left unused
	// for capture, packetization and the applications (0.5: half).
	Headroom float64
	// UnitsPerCore, when positive, is the software capacity of one core
	// for every codec, used as is (no headroom) instead of calibrating.
	UnitsPerCore float64
	// CalibrationFrames per software codec; zero: DefaultCalibrationFrames.
	CalibrationFrames int
	// PoolUnits overrides a hardware pool's units (from the table or
	// DefaultHardwareUnits) by pool name ("nvenc1", "vaapi-renderD128"),
	// or for every device of a kind ("nvenc", "vaapi"); a pool's own name
	// wins.
	PoolUnits map[string]float64
	// Root is where FindDevices looks for /proc and /dev: "" is the
	// host's; tests give a fake tree.
	Root string
}

// Status is what Probe found out about one backend.
type Status struct {
	Info
	// Available: the test encode worked.
	Available bool `json:"available"`
	// Reason says why not, when not available.
	Reason string `json:"reason,omitempty"`
	// Device names the hardware (GPU model, render node), or the cores.
	Device string `json:"device,omitempty"`
	// UnitsPerCore is a software backend's calibrated (or configured)
	// capacity of one core.
	UnitsPerCore float64 `json:"units_per_core,omitempty"`
	// Units is the capacity of the backend's pool in 720p30 streams of
	// this backend's codec (software: cores × units per core × (1 −
	// headroom)); the pool's other backends share it.
	Units float64 `json:"units"`
	// Source says where Units comes from.
	Source string `json:"source,omitempty"`
}

// probeFrames is how many frames a hardware test encode sends: enough to
// get past any encoder that holds a frame or two back.
const probeFrames = 5

// Probe tries every backend with a real encode and sizes the ones that
// work. It takes about CalibrationFrames software frames per codec.
func Probe(cfg ProbeConfig) []Status {
	cores := cfg.Cores
	if cores <= 0 {
		cores = runtime.NumCPU()
	}
	var out []Status
	for _, b := range All(cfg.VAAPIDevice) {
		info := b.Info()
		if info.Hardware {
			continue // per device, below
		}
		st := Status{Info: info}
		st.Device = fmt.Sprintf("%d cores", cores)
		upc, src := cfg.UnitsPerCore, "configured units per core"
		headroom := 0.0
		if upc <= 0 {
			var err error
			upc, err = Calibrate(b, cfg.CalibrationFrames)
			if err != nil {
				st.Reason = err.Error()
				out = append(out, st)
				continue
			}
			headroom = cfg.Headroom
			src = fmt.Sprintf("calibrated: %.2f 720p30 streams per core, %.0f%% headroom", upc, headroom*100)
		}
		st.Available, st.UnitsPerCore, st.Source = true, upc, src
		st.Units = float64(cores) * upc * (1 - headroom)
		out = append(out, st)
	}
	for _, t := range hardwareTargets(cfg) {
		info := t.backend.Info()
		st := Status{Info: info, Device: t.device.String()}
		if err := testEncode(t.backend); err != nil {
			st.Reason = strings.TrimPrefix(err.Error(), ErrUnavailable.Error()+": ")
			out = append(out, st)
			continue
		}
		st.Available = true
		st.Units, st.Source = cfg.deviceUnits(t.device)
		out = append(out, st)
	}
	return out
}

// deviceUnits is one device's capacity: PoolUnits for its pool, else for
// its kind, else the table's figure for its model.
func (cfg ProbeConfig) deviceUnits(d Device) (float64, string) {
	if u, ok := cfg.PoolUnits[d.Pool]; ok && u > 0 {
		return u, "configured"
	}
	if u, ok := cfg.PoolUnits[d.Kind]; ok && u > 0 {
		return u, "configured for every " + d.Kind + " device"
	}
	return HardwareUnits(d.Kind, d.Model)
}

// target is one hardware backend on one device.
type target struct {
	backend Backend
	device  Device
}

// hardwareTargets lists the hardware backends to probe: each backend on
// each device FindDevices finds, so every GPU and render node is a pool
// of its own. A kind with no device found keeps its single-device pool
// ("nvenc": the driver's choice of GPU, which works where the driver's
// /proc entries are hidden, as in some containers; "vaapi" on
// DefaultVAAPIDevice), so the inventory still says why it is absent. A
// configured VAAPIDevice is the one VA-API device, as pool "vaapi".
func hardwareTargets(cfg ProbeConfig) []target {
	devs := FindDevices(cfg.Root)
	var out []target
	for _, kind := range []string{PoolNVENC, PoolVAAPI} {
		var mine []Device
		if kind != PoolVAAPI || cfg.VAAPIDevice == "" {
			for _, d := range devs {
				if d.Kind == kind {
					mine = append(mine, d)
				}
			}
		}
		if len(mine) == 0 {
			d := Device{Kind: kind, Pool: kind}
			if kind == PoolVAAPI {
				d.Path = cmp.Or(cfg.VAAPIDevice, DefaultVAAPIDevice)
			}
			for _, b := range All(cfg.VAAPIDevice) {
				if b.Info().Pool == kind {
					out = append(out, target{b, d})
				}
			}
			continue
		}
		for _, d := range mine {
			for _, b := range deviceBackends(d) {
				out = append(out, target{b, d})
			}
		}
	}
	return out
}

// testEncode opens b at 720p30 and encodes a few frames of the test
// pattern; it fails unless output came back.
func testEncode(b Backend) error {
	enc, err := b.Open(Params{Width: calWidth, Height: calHeight, FPS: calFPS})
	if err != nil {
		return err
	}
	defer enc.Close()
	gen, err := pattern.New(calWidth, calHeight)
	if err != nil {
		return err
	}
	img, err := yuv.NewImage(calWidth, calHeight)
	if err != nil {
		return err
	}
	bytes := 0
	for i := range probeFrames {
		gen.Draw(img, uint32(i), time.Unix(0, 0))
		out, _, err := enc.Encode(img, i == 0, nil)
		if err != nil {
			return fmt.Errorf("%w: test encode: %w", ErrUnavailable, err)
		}
		bytes += len(out)
	}
	if bytes == 0 {
		return fmt.Errorf("%w: test encode of %d frames returned nothing", ErrUnavailable, probeFrames)
	}
	return nil
}

// Pool is the capacity that backends share, as an agent accounts it.
type Pool struct {
	Name     string
	Hardware bool
	// Capacity in the pool's own measure; Cost[codec] of it is one 720p30
	// stream of codec.
	Capacity float64
	Cost     map[string]float64
	// Backends by codec.
	Backends map[string]string
}

// Pools groups the available backends of an inventory by pool. A pool's
// capacity is the most streams any of its codecs carries; a codec with
// fewer costs proportionally more.
func Pools(inv []Status) []Pool {
	var out []Pool
	idx := map[string]int{}
	for _, s := range inv {
		if !s.Available || s.Units <= 0 {
			continue
		}
		i, ok := idx[s.Pool]
		if !ok {
			i = len(out)
			idx[s.Pool] = i
			out = append(out, Pool{Name: s.Pool, Hardware: s.Hardware, Cost: map[string]float64{}, Backends: map[string]string{}})
		}
		out[i].Capacity = max(out[i].Capacity, s.Units)
		out[i].Backends[s.Codec] = s.Name
		out[i].Cost[s.Codec] = s.Units // turned into a cost below
	}
	for i := range out {
		for c, u := range out[i].Cost {
			out[i].Cost[c] = out[i].Capacity / u
		}
	}
	return out
}
