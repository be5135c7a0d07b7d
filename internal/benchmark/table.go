package benchmark

import (
	"fmt"
	"strings"
	"time"
)

// Table is one run's results in Markdown, ready to paste into
// BENCHMARKS.md: lines naming the machine, the code and the command, one
// row per measure, and notes (rows skipped and why, commands for what is
// measured elsewhere).
type Table struct {
	Header []string
	Rows   []Row
	Notes  []string
}

// Row is one measure.
type Row struct {
	Measure string
	N       int // samples; 0 prints as empty
	Result  string
	Goal    string
}

// Markdown renders the table.
func (t Table) Markdown() string {
	var b strings.Builder
	for _, h := range t.Header {
		b.WriteString(h + "\n")
	}
	if len(t.Header) > 0 {
		b.WriteString("\n")
	}
	b.WriteString("| measure | n | result | goal |\n| --- | --- | --- | --- |\n")
	for _, r := range t.Rows {
		n := ""
		if r.N > 0 {
			n = fmt.Sprint(r.N)
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(r.Measure), n, cell(r.Result), cell(r.Goal))
	}
	if len(t.Notes) > 0 {
		b.WriteString("\n")
		for _, n := range t.Notes {
			b.WriteString(n + "\n")
		}
	}
	return b.String()
}

// cell keeps a value inside its Markdown cell.
func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "|", `\|`), "\n", " ")
}

// P50P99 is a result cell of samples: "p50 47.5 ms / p99 58.5 ms".
func P50P99(d Durations) string {
	return "p50 " + Millis(d.Percentile(50)) + " / p99 " + Millis(d.Percentile(99))
}

// Millis prints a duration in milliseconds to three significant digits
// (0.142 ms, 47.5 ms, 236 ms, 1833 ms).
func Millis(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 1:
		return fmt.Sprintf("%.3f ms", ms)
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f ms", ms)
	default:
		return fmt.Sprintf("%.0f ms", ms)
	}
}
