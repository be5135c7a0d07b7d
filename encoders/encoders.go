package encoders

import (
	"fmt"

	"github.com/streamstack/streamstack/internal/yuv"
)

// Codec names, as the streamer's protocol writes them.
const (
	VP8  = "VP8"
	H264 = "H264"
)

// Pools: the resources backends share. A host's NVIDIA GPUs and render
// nodes are each a pool of their own, named after the kind and the device
// ("nvenc0", "vaapi-renderD128"; see FindDevices); "nvenc" and "vaapi"
// alone are the single device of a host where none was enumerated, or
// of a configured VA-API device.
const (
	PoolCPU   = "cpu"
	PoolNVENC = "nvenc"
	PoolVAAPI = "vaapi"
)

// DefaultVAAPIDevice is the DRM render node of the first GPU.
const DefaultVAAPIDevice = "/dev/dri/renderD128"

// Info describes a backend.
type Info struct {
	// Name is the backend's name: libvpx, x264, h264_nvenc, h264_vaapi,
	// vp8_vaapi (libavcodec's names for the hardware ones).
	Name string `json:"name"`
	// Pool is the capacity it shares with the pool's other backends.
	Pool string `json:"pool"`
	// Codec is what it encodes: VP8 or H264.
	Codec    string `json:"codec"`
	Hardware bool   `json:"hardware"`
}

// Params open an encoder for one session.
type Params struct {
	Width, Height, FPS int
	// BitrateKbps is the starting CBR target.
	BitrateKbps int
	// VP8CPUUsed is libvpx's cpu-used (see internal/vpx); zero: -8.
	VP8CPUUsed int
	// Threads for software encoders; zero: 1 (one encoder per session,
	// scaled by sessions).
	Threads int
}

// Encoder is one open encoder. The streamer's frame loop calls Encode
// and Close from one goroutine; SetBitrate is safe from any.
type Encoder interface {
	// Encode compresses img into one frame (VP8) or access unit (H.264,
	// Annex-B) appended to dst, and reports a keyframe. Empty output: the
	// encoder produced nothing for img.
	Encode(img *yuv.Image, forceKey bool, dst []byte) (frame []byte, key bool, err error)
	// SetBitrate sets the target in kbit/s from the next Encode on.
	SetBitrate(kbps int) error
	Close() error
}

// Backend is one way to encode one codec.
type Backend interface {
	Info() Info
	// Open opens an encoder, or fails with the reason the backend cannot
	// encode here.
	Open(p Params) (Encoder, error)
}

// All returns every backend this build has, software first. vaapiDevice
// is the render node the VA-API backends open; empty: DefaultVAAPIDevice.
func All(vaapiDevice string) []Backend {
	if vaapiDevice == "" {
		vaapiDevice = DefaultVAAPIDevice
	}
	return []Backend{
		libvpx{}, x264Backend{},
		hardware{info: Info{Name: "h264_nvenc", Pool: PoolNVENC, Codec: H264, Hardware: true}},
		hardware{info: Info{Name: "h264_vaapi", Pool: PoolVAAPI, Codec: H264, Hardware: true}, device: vaapiDevice},
		hardware{info: Info{Name: "vp8_vaapi", Pool: PoolVAAPI, Codec: VP8, Hardware: true}, device: vaapiDevice},
	}
}

// Lookup returns the backend of pool that encodes codec, opening the
// pool's device: "nvenc1" the second NVIDIA GPU, "vaapi-renderD129" that
// render node (see ParsePool). vaapiDevice is the render node of the
// single-device pool "vaapi"; empty: DefaultVAAPIDevice.
func Lookup(pool, codec, vaapiDevice string) (Backend, error) {
	kind, device := ParsePool(pool)
	if device == "" && kind == PoolVAAPI {
		device = vaapiDevice
	}
	for _, b := range All(vaapiDevice) {
		i := b.Info()
		if i.Pool != kind || i.Codec != codec {
			continue
		}
		if h, ok := b.(hardware); ok && pool != kind {
			h.info.Pool, h.device = pool, device
			return h, nil
		}
		return b, nil
	}
	return nil, fmt.Errorf("%w: no %s encoder in pool %q", ErrUnknown, codec, pool)
}

// PoolCodecs returns the codecs pool's backends encode, in All's order.
func PoolCodecs(pool string) []string {
	kind, _ := ParsePool(pool)
	var out []string
	for _, b := range All("") {
		if i := b.Info(); i.Pool == kind {
			out = append(out, i.Codec)
		}
	}
	return out
}

// PoolHardware reports whether pool is a hardware encoder.
func PoolHardware(pool string) bool {
	kind, _ := ParsePool(pool)
	return kind == PoolNVENC || kind == PoolVAAPI
}
