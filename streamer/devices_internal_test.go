package streamer

import (
	"log/slog"
	"slices"
	"testing"

	"github.com/streamstack/streamstack/encoders"
)

// A session placed on one device's pool ("nvenc1", "vaapi-renderD129")
// offers that kind's codecs and opens the backend of that very pool,
// whose device encoders.Lookup takes from the pool's name.
func TestEncoderOnDevicePool(t *testing.T) {
	all := videoCodecs(1280, 720, 30)
	for pool, want := range map[string][]string{
		"nvenc1":           {"H264"},
		"vaapi-renderD129": {"VP8", "H264"},
	} {
		if got := codecNames(encoderCodecs(all, pool, nil)); !slices.Equal(got, want) {
			t.Errorf("pool %s: codecs %v, want %v", pool, got, want)
		}
	}
	for _, tc := range []struct{ pool, codec string }{{"nvenc1", "H264"}, {"vaapi-renderD129", "VP8"}} {
		cfg := DefaultConfig()
		cfg.Encoder = tc.pool
		var opened encoders.Info
		cfg.lookupBackend = func(pool, codec, device string) (encoders.Backend, error) {
			b, err := encoders.Lookup(pool, codec, device)
			if err == nil && pool == tc.pool {
				opened = b.Info()
			}
			return b, err
		}
		enc, err := newEncoder(tc.codec, cfg, slog.New(slog.DiscardHandler), 320, 240, 30, 500, nil)
		if err == nil {
			enc.Close() // a host with the device
		}
		if opened.Pool != tc.pool || !opened.Hardware {
			t.Errorf("%s: opened %+v", tc.pool, opened)
		}
	}
}
