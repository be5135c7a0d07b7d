package encoders

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/streamstack/streamstack/internal/avcodec"
)

// hardware is a libavcodec hardware encoder.
type hardware struct {
	info   Info
	device string // VA-API render node
}

func (h hardware) Info() Info { return h.info }

func (h hardware) Open(p Params) (Encoder, error) {
	if !avcodec.HasEncoder(h.info.Name) {
		return nil, fmt.Errorf("%w: this libavcodec was built without %s", ErrUnavailable, h.info.Name)
	}
	if h.info.Pool == PoolVAAPI {
		if _, err := os.Stat(h.device); err != nil {
			return nil, fmt.Errorf("%w: no VA-API device: %w", ErrUnavailable, err)
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
		if h.info.Pool == PoolNVENC {
			what = "no NVENC"
		}
		// libavcodec's own words, without the wrapper's prefix.
		why := strings.TrimPrefix(err.Error(), avcodec.ErrCodec.Error()+": "+h.info.Name+": ")
		return nil, fmt.Errorf("%w: %s: %s", ErrUnavailable, what, why)
	}
	return enc, nil
}

// nvidiaModels returns the models of the NVIDIA GPUs the driver lists
// (/proc/driver/nvidia/gpus/*/information, "Model: Tesla T4"), if any.
func nvidiaModels() []string {
	infos, _ := filepath.Glob("/proc/driver/nvidia/gpus/*/information")
	var out []string
	for _, p := range infos {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		for line := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "Model" {
				out = append(out, strings.TrimSpace(v))
			}
		}
	}
	return out
}
