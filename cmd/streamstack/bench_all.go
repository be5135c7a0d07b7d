package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/streamstack/streamstack/internal/benchmark"
)

// runBenchAll measures everything BENCHMARKS.md's "Whole stack" table
// shows in one run, one measure after the other (each stack stopped
// before the next starts), and prints the table at the end, its header
// naming the machine, the code and the load before and after.
func runBenchAll(ctx context.Context, f *benchFlags, args []string) error {
	start := time.Now()
	run := newBenchRun(args, streamerMode{hostSessions: f.hostSessions})
	rows, notes, err := clientMeasures(ctx, f, run.mode, true)
	if err != nil {
		return err
	}
	dens, err := measureDensity(ctx, f)
	if err != nil {
		return err
	}
	rows = append(rows, densityTableRows(dens, f)...)
	notes = append(notes, densityNotes(dens)...)
	fmt.Print(run.table(rows, notes, time.Since(start)).Markdown())
	return nil
}

// benchRun is what a table's header says about its run.
type benchRun struct {
	machine   benchmark.Machine
	loadStart string
	started   time.Time
	args      []string
	mode      streamerMode
}

func newBenchRun(args []string, mode streamerMode) benchRun {
	return benchRun{machine: benchmark.ReadMachine(), loadStart: benchmark.LoadAverage(), started: time.Now(), args: args, mode: mode}
}

// table is the run's rows under its header; the load average is read
// again now, at the end.
func (r benchRun) table(rows []benchmark.Row, notes []string, took time.Duration) benchmark.Table {
	return benchmark.Table{Header: r.header(benchmark.LoadAverage(), took), Rows: rows, Notes: notes}
}

func (r benchRun) header(loadEnd string, took time.Duration) []string {
	m := r.machine
	cmd := strings.TrimSpace("streamstack bench " + strings.Join(r.args, " "))
	rev := m.Revision
	if rev == "unknown" {
		rev = "unknown (not stamped in the binary: build it with `go build -buildvcs=true`)"
	}
	return []string{
		fmt.Sprintf("Machine: %s, %d cores, %s; load average (1, 5, 15 min) %s at the start, %s at the end.",
			m.CPU, m.Cores, m.Go, r.loadStart, loadEnd),
		fmt.Sprintf("Code: %s. Command: `%s`, %s, %s.", rev, cmd,
			r.started.UTC().Format("2006-01-02 15:04 UTC"), took.Round(time.Second)),
		fmt.Sprintf("Streamers: %s.", r.mode),
	}
}
