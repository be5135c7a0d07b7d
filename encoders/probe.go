package encoders

import (
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
	// PoolUnits overrides a hardware pool's units per device (from the
	// table or DefaultHardwareUnits) by pool name: "nvenc", "vaapi".
	PoolUnits map[string]float64
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
		st := Status{Info: info}
		if !info.Hardware {
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
			continue
		}
		if info.Pool == PoolVAAPI {
			st.Device = cfg.VAAPIDevice
			if st.Device == "" {
				st.Device = DefaultVAAPIDevice
			}
		} else if models := nvidiaModels(); len(models) > 0 {
			st.Device = models[0]
		}
		if err := testEncode(b); err != nil {
			st.Reason = strings.TrimPrefix(err.Error(), ErrUnavailable.Error()+": ")
			out = append(out, st)
			continue
		}
		st.Available = true
		st.Units, st.Source = HardwareUnits(info.Pool, st.Device)
		if u, ok := cfg.PoolUnits[info.Pool]; ok && u > 0 {
			st.Units, st.Source = u, "configured"
		}
		out = append(out, st)
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
