package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/streamstack/streamstack/internal/benchmark"
)

func printDensity(res densityResult, f *benchFlags) {
	rows, cores := res.rows, res.cores
	fmt.Printf("%dx%d@%d, %d cores, %s; %s\n\n", f.width, f.height, f.fps, cores, loadAvg(), res.mode)
	w := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "codec\traw fps/core (ffmpeg, utime)\traw density\tffmpeg ×%d at once\tffmpeg real time (≤%.0f%% late)\tour encoder alone, real time\tour encode fps/core\tour density (≤%.0f%% late)\tratio\tof ffmpeg real time\tof encoder alone\tlate\tCPU-bound density\tratio\t\n", cores, 100*f.density.late, 100*f.density.late)
	for _, r := range rows {
		rawFPS, rawDensity, par, ratio, cpuRatio := "-", "-", "-", "-", "-"
		rt, rtRatio := realtimeCells(r.realtime, r.density)
		alone, aloneRatio := realtimeCells(r.alone, r.density)
		// What the streamers' CPU per session allows, other load aside.
		cpuDensity := float64(cores) / max(r.best.StreamersCPU/float64(max(r.best.Sessions, 1)), 1e-9)
		if r.raw != nil {
			rd := r.raw.FPSPerCore * float64(cores) / float64(f.fps)
			rawFPS = fmt.Sprintf("%.0f", r.raw.FPSPerCore)
			rawDensity = fmt.Sprintf("%.1f", rd)
			par = fmt.Sprintf("%.0f fps = %.1f", r.raw.ParallelFPS, r.raw.ParallelFPS/float64(f.fps))
			ratio = fmt.Sprintf("%.0f%%", 100*float64(r.density)/rd)
			cpuRatio = fmt.Sprintf("%.0f%%", 100*cpuDensity/rd)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%.0f\t%d\t%s\t%s\t%s\t%.2f%%\t%.1f\t%s\t\n", r.codec, rawFPS, rawDensity, par, rt, alone,
			r.ours.FPSPerCore, r.density, ratio, rtRatio, aloneRatio, 100*r.best.LateRatio(), cpuDensity, cpuRatio)
	}
	_ = w.Flush()
	fmt.Println()
	w = tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "codec\tsessions\tCPU ms/frame: draw\tencode\tpacketize+SRTP+send\tstreamer other\treceivers+stack\ttotal\tencode share\tstreamers\treceivers\tkbps ours/ffmpeg\t\n")
	for _, r := range rows {
		b := r.best
		total := b.Draw + b.Encode + b.Send + b.StreamerOther + b.Receivers
		rawKbps := "-"
		if r.raw != nil {
			rawKbps = fmt.Sprintf("%.0f", r.raw.Kbps)
		}
		fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%.0f%%\t%.2f cores\t%.2f cores\t%.0f/%s\t\n", r.codec, b.Sessions,
			msf(b.Draw), msf(b.Encode), msf(b.Send), msf(b.StreamerOther), msf(b.Receivers), msf(total),
			100*b.Encode.Seconds()/max(total.Seconds(), 1e-9), b.StreamersCPU, b.ReceiversCPU, b.Kbps, rawKbps)
	}
	_ = w.Flush()
	for _, r := range rows {
		if r.lastFail != nil {
			fmt.Printf("%s: %d sessions: %.2f%% late\n", r.codec, r.lastFail.Sessions, 100*r.lastFail.LateRatio())
		}
		printRamp(r.codec+" ffmpeg real time", r.realtime)
		printRamp(r.codec+" encoder alone", r.alone)
	}
}

func msf(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d.Microseconds())/1000) }

// realtimeCells are a real-time ramp's density and ours as a share of it.
func realtimeCells(rt *rampResult, ours int) (density, ratio string) {
	if rt == nil || rt.density == 0 {
		return "-", "-"
	}
	return fmt.Sprintf("%d", rt.density), fmt.Sprintf("%.0f%%", 100*float64(ours)/float64(rt.density))
}

func printRamp(name string, rt *rampResult) {
	if rt == nil {
		return
	}
	fmt.Printf("%s: %d at %.2f%% late, %.2f cores", name, rt.best.Sessions, 100*rt.best.LateRatio(), rt.best.StreamersCPU)
	if rt.best.Frames > 0 {
		fmt.Printf(" (%s ms CPU/frame", msf(time.Duration(rt.best.StreamersCPU*rt.best.Elapsed.Seconds()*float64(time.Second))/time.Duration(rt.best.Frames)))
		if rt.best.Encode > 0 {
			fmt.Printf(", encode %s", msf(rt.best.Encode))
		}
		fmt.Print(")")
	}
	if rt.lastFail != nil {
		fmt.Printf("; %d: %.2f%% late", rt.lastFail.Sessions, 100*rt.lastFail.LateRatio())
	}
	fmt.Println()
}

// densityTableRows are --all's rows of a density run: per codec, our
// sessions, our encoder alone and ffmpeg, each held to the streamer's
// late-frame rule.
func densityTableRows(res densityResult, f *benchFlags) []benchmark.Row {
	late := fmt.Sprintf("≤ %.0f %% late", 100*f.density.late)
	var out []benchmark.Row
	for _, r := range res.rows {
		name := fmt.Sprintf("density, %s %dx%d@%d (%s), window %s", r.codec, f.width, f.height, f.fps, late, f.density.window)
		result := fmt.Sprintf("%d sessions (%.2f %% late)", r.density, 100*r.best.LateRatio())
		var of []string
		for _, cmp := range []struct {
			name string
			rt   *rampResult
		}{{"our encoder alone", r.alone}, {"ffmpeg", r.realtime}} {
			if _, ratio := realtimeCells(cmp.rt, r.density); ratio != "-" {
				of = append(of, ratio+" of "+cmp.name)
			}
		}
		if len(of) > 0 {
			result += ": " + strings.Join(of, ", ")
		}
		out = append(out, benchmark.Row{Measure: name + ", " + res.mode.String(), Result: result, Goal: "≥ 90 % of our encoder alone"})
		if r.alone != nil {
			out = append(out, benchmark.Row{Measure: name + ", our encoder alone (goroutines of the bench, no stack)",
				Result: rampCell(r.alone, "streams")})
		}
		if r.realtime != nil {
			out = append(out, benchmark.Row{Measure: name + ", ffmpeg fed in real time (a process each)",
				Result: rampCell(r.realtime, "processes")})
		}
	}
	return out
}

func rampCell(rt *rampResult, what string) string {
	return fmt.Sprintf("%d %s (%.2f %% late)", rt.density, what, 100*rt.best.LateRatio())
}

// densityNotes say what a density run could not compare.
func densityNotes(res densityResult) []string {
	if res.ffmpeg == "" {
		return []string{"Density without ffmpeg: not installed (`go tool task deps-bench` installs it, or --ffmpeg)."}
	}
	return nil
}
