package main

import (
	"flag"
	"strings"
	"testing"
	"time"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/internal/benchmark"
)

func TestStreamerMode(t *testing.T) {
	for _, c := range []struct {
		inProcess    bool
		hostSessions int
		wantHosts    int
		wantName     string
	}{
		{false, 4, 4, "streamer hosts of 4 sessions (--streamer-host-sessions 4)"},
		{false, 0, 0, "a streamer process per session (--streamer-host-sessions 0)"},
		// In process no host runs: an idle spare would add its CPU.
		{true, 4, 0, "streamers on goroutines of the agent (--density-in-process)"},
	} {
		m, err := newStreamerMode(c.inProcess, c.hostSessions)
		if err != nil {
			t.Fatal(err)
		}
		cfg := agent.DefaultConfig()
		m.apply(&cfg)
		if cfg.HostSessions != c.wantHosts || m.String() != c.wantName {
			t.Errorf("mode(%v, %d): HostSessions %d, %q; want %d, %q", c.inProcess, c.hostSessions, cfg.HostSessions, m, c.wantHosts, c.wantName)
		}
	}
	if _, err := newStreamerMode(false, -1); err == nil {
		t.Error("--streamer-host-sessions -1 accepted")
	}
}

// TestBenchDensityDefaultsToHosts: `bench --density` runs what serve
// runs, streamer hosts, with bench's one --streamer-host-sessions flag.
func TestBenchDensityDefaultsToHosts(t *testing.T) {
	for args, want := range map[string]string{
		"--density":                            "streamer hosts of 4 sessions",
		"--density --streamer-host-sessions 2": "streamer hosts of 2 sessions",
		"--density --streamer-host-sessions 0": "a streamer process per session",
		"--density --density-in-process":       "streamers on goroutines",
	} {
		fs := flag.NewFlagSet("bench", flag.ContinueOnError)
		f := newBenchFlags(fs)
		if err := fs.Parse(strings.Fields(args)); err != nil {
			t.Fatal(err)
		}
		m, err := newStreamerMode(f.density.inProcess, f.hostSessions)
		if err != nil || !strings.HasPrefix(m.String(), want) {
			t.Errorf("%s: %q, %v; want %q", args, m, err, want)
		}
	}
}

func TestShortRampKeepsGivenFlags(t *testing.T) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	f := newBenchFlags(fs)
	if err := fs.Parse([]string{"--all", "--density-window", "5s"}); err != nil {
		t.Fatal(err)
	}
	f.density.shortRamp(fs)
	if f.density.window != 5*time.Second || f.density.settle != 2*time.Second {
		t.Errorf("window %v settle %v, want 5s (given) and 2s", f.density.window, f.density.settle)
	}
}

func TestDensityTableRows(t *testing.T) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	f := newBenchFlags(fs)
	res := densityResult{mode: streamerMode{hostSessions: 4}, cores: 2, ffmpeg: "/usr/bin/ffmpeg", rows: []densityRow{{
		codec:      "VP8",
		rampResult: rampResult{density: 9, best: benchmark.LoadWindow{Slots: 1000, Late: 4}},
		alone:      &rampResult{density: 10, best: benchmark.LoadWindow{Slots: 1000}},
		realtime:   &rampResult{density: 8, best: benchmark.LoadWindow{Slots: 1000, Late: 10}},
	}}}
	rows := densityTableRows(res, f)
	want := []benchmark.Row{
		{Measure: "density, VP8 1280x720@30 (≤ 1 % late), window 10s, streamer hosts of 4 sessions (--streamer-host-sessions 4)",
			Result: "9 sessions (0.40 % late): 90% of our encoder alone, 112% of ffmpeg", Goal: "≥ 90 % of our encoder alone"},
		{Measure: "density, VP8 1280x720@30 (≤ 1 % late), window 10s, our encoder alone (goroutines of the bench, no stack)",
			Result: "10 streams (0.00 % late)"},
		{Measure: "density, VP8 1280x720@30 (≤ 1 % late), window 10s, ffmpeg fed in real time (a process each)",
			Result: "8 processes (1.00 % late)"},
	}
	if len(rows) != len(want) {
		t.Fatalf("rows %+v", rows)
	}
	for i := range want {
		if rows[i] != want[i] {
			t.Errorf("row %d\n got %+v\nwant %+v", i, rows[i], want[i])
		}
	}
	if notes := densityNotes(densityResult{}); len(notes) != 1 || !strings.Contains(notes[0], "without ffmpeg") {
		t.Errorf("notes without ffmpeg: %q", notes)
	}
}

func TestBenchRunHeader(t *testing.T) {
	r := benchRun{machine: benchmark.Machine{CPU: "AMD EPYC", Cores: 2, Go: "go1.26.8", Revision: "abc123+modified"},
		loadStart: "0.40 0.50 0.60", started: time.Date(2026, 12, 7, 20, 0, 0, 0, time.UTC),
		args: []string{"--all"}, mode: streamerMode{hostSessions: 4}}
	got := strings.Join(r.header("1.20 0.70 0.60", 7*time.Minute+12*time.Second), "\n")
	want := "Machine: AMD EPYC, 2 cores, go1.26.8; load average (1, 5, 15 min) 0.40 0.50 0.60 at the start, 1.20 0.70 0.60 at the end.\n" +
		"Code: abc123+modified. Command: `streamstack bench --all`, 2026-12-07 20:00 UTC, 7m12s.\n" +
		"Streamers: streamer hosts of 4 sessions (--streamer-host-sessions 4)."
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}
