package pulse

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// lazyChildEnv makes the test binary run lazyChild instead of its tests:
// a fresh process in which nothing has used libpulse yet.
const lazyChildEnv = "STREAMSTACK_PULSE_TEST_LAZY_CHILD"

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
// stream, and both after it (a stream to no server: the libraries load,
// the connection fails).
func lazyChild() error {
	before, err := mappedPulse()
	if err != nil {
		return err
	}
	if len(before) > 0 {
		return fmt.Errorf("mapped before first use: %v", before)
	}
	_, err = NewRecorder(StreamConfig{Server: "unix:/nonexistent/streamstack-test/native"})
	if !errors.Is(err, ErrStream) {
		return fmt.Errorf("recorder to no server: %v, want ErrStream", err)
	}
	after, err := mappedPulse()
	if err != nil {
		return err
	}
	if len(after) != 2 {
		return fmt.Errorf("mapped after first use: %v, want libpulse and libpulse-simple", after)
	}
	return nil
}

// mappedPulse returns which of libpulse and libpulse-simple
// /proc/self/maps shows.
func mappedPulse() ([]string, error) {
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return nil, err
	}
	var found []string
	for _, lib := range []string{"/libpulse.so", "/libpulse-simple.so"} {
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

// Without either library every stream fails with ErrUnavailable naming
// the missing one, and a sound server still starts (it is a program).
func TestLoadFailure(t *testing.T) {
	const missing = "libstreamstack-missing.so.0"
	installed := newLibrary()
	for _, tc := range []struct {
		name          string
		pulse, simple []string
	}{
		{"libpulse", []string{missing, "libstreamstack-missing.so"}, installed.simple},
		{"libpulse-simple", installed.pulse, []string{missing}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			withLibrary(t, &library{pulse: tc.pulse, simple: tc.simple})
			// The first name's reason, the soname's, not the fallback's.
			want := missing + ": cannot open shared object file"
			check := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), want) {
					t.Errorf("%s: %v, want ErrUnavailable naming %s", what, err, want)
				}
			}
			check("Load", Load())
			_, err := NewRecorder(StreamConfig{})
			check("NewRecorder", err)
			_, err = NewPlayer(StreamConfig{})
			check("NewPlayer", err)
			check("suspendSink", suspendSink("unix:/nonexistent", SinkName, 1))
		})
	}
}

// TestLoadUnversioned loads through the development symlinks when the
// soname is missing.
func TestLoadUnversioned(t *testing.T) {
	for _, name := range []string{"libpulse.so", "libpulse-simple.so"} {
		h, err := dlopenFirst([]string{name})
		if err != nil {
			t.Skipf("no %s (the -dev package's symlink): %v", name, err)
		}
		dlclose(h)
	}
	withLibrary(t, &library{
		pulse:  []string{"libstreamstack-missing.so.0", "libpulse.so"},
		simple: []string{"libstreamstack-missing.so.0", "libpulse-simple.so"},
	})
	if err := Load(); err != nil {
		t.Fatal(err)
	}
}

// Many goroutines' first streams load the libraries once, without a race
// (go test -race).
func TestLoadFromManyGoroutines(t *testing.T) {
	l := newLibrary()
	withLibrary(t, l)
	errs := make(chan error, 8)
	for range cap(errs) {
		go func() { errs <- l.load() }()
	}
	for range cap(errs) {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
