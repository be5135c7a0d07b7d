//go:build cgo

package avcodec

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// lazyChildEnv makes the test binary run lazyChild instead of its tests:
// a fresh process in which nothing has used libavcodec yet.
const lazyChildEnv = "STREAMSTACK_AVCODEC_TEST_LAZY_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(lazyChildEnv) != "" {
		if err := lazyChild(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// lazyChild checks the process maps neither library until the first
// decoder, and both after it.
func lazyChild() error {
	before, err := mappedAV()
	if err != nil {
		return err
	}
	if len(before) > 0 {
		return fmt.Errorf("mapped before first use: %v", before)
	}
	dec, err := NewH264Decoder()
	if err != nil {
		return err
	}
	defer dec.Close()
	after, err := mappedAV()
	if err != nil {
		return err
	}
	if len(after) != 2 {
		return fmt.Errorf("mapped after first use: %v, want libavcodec and libavutil", after)
	}
	return nil
}

// mappedAV returns which of libavcodec and libavutil /proc/self/maps
// shows.
func mappedAV() ([]string, error) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return nil, err
	}
	var found []string
	for _, lib := range []string{"/libavcodec.so", "/libavutil.so"} {
		if strings.Contains(string(maps), lib) {
			found = append(found, lib)
		}
	}
	return found, nil
}

func TestLoadedOnFirstUse(t *testing.T) {
	if _, err := os.Stat("/proc/self/maps"); err != nil {
		t.Skip("no /proc/self/maps:", err)
	}
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lazyChildEnv+"=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
}

// withLibrary makes l the process's library for the test.
func withLibrary(t *testing.T, l *library) {
	t.Helper()
	saved := lib
	lib = l
	t.Cleanup(func() { lib = saved })
}

func TestLoadFailure(t *testing.T) {
	const missing = "libstreamstack-missing.so.0"
	installed := newLibrary()
	for _, tc := range []struct {
		name            string
		avcodec, avutil []string
	}{
		{"avcodec", []string{missing, "libstreamstack-missing.so"}, installed.avutil},
		{"avutil", installed.avcodec, []string{missing}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withLibrary(t, &library{avcodec: tc.avcodec, avutil: tc.avutil})
			// The first name's reason, the soname's, not the fallback's.
			want := missing + ": cannot open shared object file"
			check := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), want) {
					t.Errorf("%s: %v, want ErrUnavailable naming %s", what, err, want)
				}
			}
			check("Load", Load())
			_, err := NewH264Decoder()
			check("NewH264Decoder", err)
			_, err = NewEncoder(EncoderConfig{Name: "h264_vaapi", Width: 64, Height: 64, FPS: 30, BitrateKbps: 100})
			check("NewEncoder", err)
			_, err = checkOptions("h264_vaapi", nil)
			check("checkOptions", err)
			if HasEncoder("h264_vaapi") {
				t.Error("HasEncoder without libavcodec")
			}
		})
	}
}

// TestLoadUnversioned loads through the development symlinks when the
// soname is missing (the version check passes: they are the same files).
func TestLoadUnversioned(t *testing.T) {
	for _, name := range []string{"libavcodec.so", "libavutil.so"} {
		h, err := dlopenFirst([]string{name})
		if err != nil {
			t.Skipf("no %s (the -dev package's symlink): %v", name, err)
		}
		dlclose(h)
	}
	withLibrary(t, &library{
		avcodec: []string{"libstreamstack-missing.so.0", "libavcodec.so"},
		avutil:  []string{"libstreamstack-missing.so.0", "libavutil.so"},
	})
	dec, err := NewH264Decoder()
	if err != nil {
		t.Fatal(err)
	}
	dec.Close()
}
