package encoders

import (
	"fmt"

	"github.com/streamstack/streamstack/internal/vpx"
	"github.com/streamstack/streamstack/internal/x264"
)

type libvpx struct{}

func (libvpx) Info() Info { return Info{Name: "libvpx", Pool: PoolCPU, Codec: VP8} }

func (libvpx) Open(p Params) (Encoder, error) {
	cfg := vpx.DefaultEncoderConfig(p.Width, p.Height, p.FPS)
	if p.BitrateKbps > 0 {
		cfg.BitrateKbps = p.BitrateKbps
	}
	cfg.CPUUsed = p.VP8CPUUsed
	if cfg.CPUUsed == 0 {
		cfg.CPUUsed = -8
	}
	cfg.Threads = max(p.Threads, 1)
	enc, err := vpx.NewVP8Encoder(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: libvpx: %w", ErrUnavailable, err)
	}
	return enc, nil
}

type x264Backend struct{}

func (x264Backend) Info() Info { return Info{Name: "x264", Pool: PoolCPU, Codec: H264} }

func (x264Backend) Open(p Params) (Encoder, error) {
	cfg := x264.DefaultEncoderConfig(p.Width, p.Height, p.FPS)
	if p.BitrateKbps > 0 {
		cfg.BitrateKbps = p.BitrateKbps
	}
	cfg.Threads = max(p.Threads, 1)
	enc, err := x264.NewEncoder(cfg)
	if err != nil {
		return nil, fmt.Errorf("%w: x264: %w", ErrUnavailable, err)
	}
	return enc, nil
}
