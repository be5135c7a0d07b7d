package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/streamer"
)

// encoderStallTimeoutUsage describes the streamers' stall detection, which
// serve and agent pass down to them.
const encoderStallTimeoutUsage = "longest a hardware encoder may take over one frame: two frames in a row over it move the session to software, as an encoder error does; 0: only errors do"

// addEncoderFlags registers the agent's encoder inventory and placement
// settings.
func addEncoderFlags(fs *flag.FlagSet, c *agent.Config) {
	fs.Float64Var(&c.Headroom, "headroom", c.Headroom, "share of the calibrated software encoder capacity left for capture, packetization and the applications (0.5: half)")
	fs.DurationVar(&c.HardwareWait, "hardware-wait", c.HardwareWait, "how long a session waits for a hardware encoder another agent advertises free before an agent with only software free takes it; 0: software at once")
	fs.StringVar(&c.VAAPIDevice, "vaapi-device", c.VAAPIDevice, "DRM render node of the VA-API encoders; empty: "+encoders.DefaultVAAPIDevice)
	fs.Func("pool-units", "hardware encoder capacity in 720p30 streams per device, instead of the built-in table of vendors' figures: by pool (nvenc1=20,vaapi-renderD128=12) or for every device of a kind (nvenc=37,vaapi=12)", func(v string) error {
		m, err := parseFactors(v)
		c.PoolUnits = m
		return err
	})
	fs.Func("codec-cost", "factor on a codec's measured or declared cost, to refine it (H264=1.2,VP8=0.9)", func(v string) error {
		m, err := parseFactors(v)
		c.CodecCost = m
		return err
	})
}

// parseFactors reads "name=number,name=number" with positive numbers.
func parseFactors(v string) (map[string]float64, error) {
	out := map[string]float64{}
	for _, kv := range splitList(v) {
		k, num, ok := strings.Cut(kv, "=")
		f, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if !ok || err != nil || f <= 0 || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("%q: want name=positive number", kv)
		}
		out[strings.TrimSpace(k)] = f
	}
	return out, nil
}

func runEncoders(_ context.Context, args []string) error {
	fs := flag.NewFlagSet("encoders", flag.ContinueOnError)
	acfg := agent.DefaultConfig()
	fs.IntVar(&acfg.Cores, "cores", acfg.Cores, "CPU cores the agent may use for software encoding; 0: all")
	fs.Float64Var(&acfg.UnitsPerCore, "units-per-core", acfg.UnitsPerCore, "software capacity per core; 0: calibrate")
	addEncoderFlags(fs, &acfg)
	asJSON := fs.Bool("json", false, "print the inventory as JSON")
	media := streamer.DefaultConfig() // --app-isolation and the container runtime
	addMediaFlags(fs, &media)
	if err := parse(fs, args); err != nil {
		return err
	}
	inv := encoders.Probe(acfg.ProbeConfig())
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(inv)
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "BACKEND\tPOOL\tCODEC\tHARDWARE\tUNITS\tDEVICE\tNOTE")
	for _, s := range inv {
		units, note := "-", s.Reason
		if s.Available {
			units, note = strconv.FormatFloat(s.Units, 'f', 2, 64), s.Source
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%v\t%s\t%s\t%s\n", s.Name, s.Pool, s.Codec, s.Hardware, units, s.Device, note)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	// X11 apps' containers: what an agent with these settings finds.
	applyIsolation(&acfg, media)
	if media.AppIsolation == streamer.IsolationNone {
		_, err := fmt.Println("\napp isolation: none (X11 apps run as processes beside the streamer: unsafe)")
		return err
	}
	ci := acfg.Containers.Probe(context.Background(), acfg.AppSlots, os.TempDir())
	if ci.Available {
		_, err := fmt.Printf("\napp isolation: container (%s)\n", ci.Runtime)
		return err
	}
	_, err := fmt.Printf("\napp isolation: unavailable, X11 apps refused: %s\n", ci.Reason)
	return err
}
