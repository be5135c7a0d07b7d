package encoders

import (
	"fmt"
	"os"
	"strings"

	"github.com/streamstack/streamstack/internal/avcodec"
)

// hardware is a libavcodec hardware encoder.
type hardware struct {
	info Info
	// device is the VA-API render node, or the NVIDIA GPU's index (empty:
	// the driver's choice).
	device string
}

func (h hardware) Info() Info { return h.info }

func (h hardware) Open(p Params) (Encoder, error) {
	// libavcodec is loaded here, at the first hardware open, not when the
	// process starts: without it the hardware backends are absent and
	// the loader's words say why.
	if err := avcodec.Load(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	if !avcodec.HasEncoder(h.info.Name) {
		return nil, fmt.Errorf("%w: this libavcodec was built without %s", ErrUnavailable, h.info.Name)
	}
	kind, _ := ParsePool(h.info.Pool)
	switch kind {
	case PoolVAAPI:
		if _, err := os.Stat(h.device); err != nil {
			return nil, fmt.Errorf("%w: no VA-API device: %w", ErrUnavailable, err)
		}
	case PoolNVENC:
		if h.device != "" {
			cudaBusOrder()
		}
	}
	kbps := p.BitrateKbps
	if kbps <= 0 {
		kbps = max(300, min(8000, p.Width*p.Height*p.FPS/10/1000))
	}
	enc, err := avcodec.NewEncoder(avcodec.EncoderConfig{Name: h.info.Name, Device: h.device,
		Width: p.Width, Height: p.Height, FPS: p.FPS, BitrateKbps: kbps})
	if err != nil {
		what := "no VA-API " + h.info.Codec + " encoder"
		if kind == PoolNVENC {
			what = "no NVENC"
		}
		// libavcodec's own words, without the wrapper's prefix.
		why := strings.TrimPrefix(err.Error(), avcodec.ErrCodec.Error()+": "+h.info.Name+": ")
		return nil, fmt.Errorf("%w: %s: %s", ErrUnavailable, what, why)
	}
	return enc, nil
}
