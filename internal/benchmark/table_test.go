package benchmark

import (
	"runtime/debug"
	"testing"
	"time"
)

func TestTableMarkdown(t *testing.T) {
	tb := Table{
		Header: []string{"Machine: test."},
		Rows: []Row{
			{Measure: "time to first frame", N: 3, Result: P50P99(Durations{40 * time.Millisecond, 50 * time.Millisecond, 236 * time.Millisecond}), Goal: "p50 < 60 ms"},
			{Measure: "a | b\nc", Result: "12 sessions"},
		},
		Notes: []string{"Browser rows skipped."},
	}
	want := "Machine: test.\n\n" +
		"| measure | n | result | goal |\n| --- | --- | --- | --- |\n" +
		"| time to first frame | 3 | p50 50.0 ms / p99 236 ms | p50 < 60 ms |\n" +
		"| a \\| b c |  | 12 sessions |  |\n" +
		"\nBrowser rows skipped.\n"
	if got := tb.Markdown(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestMillis(t *testing.T) {
	for d, want := range map[time.Duration]string{
		142 * time.Microsecond:   "0.142 ms",
		2500 * time.Microsecond:  "2.50 ms",
		47500 * time.Microsecond: "47.5 ms",
		236 * time.Millisecond:   "236 ms",
		1833 * time.Millisecond:  "1833 ms",
	} {
		if got := Millis(d); got != want {
			t.Errorf("Millis(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestCPUModel(t *testing.T) {
	for in, want := range map[string]string{
		"processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n": "AMD EPYC 7B13",
		"processor\t: 0\nBogoMIPS\t: 50.00\nModel\t\t: Raspberry Pi 4 Model B Rev 1.4\n":                                        "Raspberry Pi 4 Model B Rev 1.4",
		"processor\t: 0\nmodel\t\t: 1\n": "",
	} {
		if got := cpuModel(in); got != want {
			t.Errorf("cpuModel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRevision(t *testing.T) {
	rev := "e1a98cfe5d61c07f36d09b4125b2cc2e8a0a710f"
	for _, c := range []struct {
		settings []debug.BuildSetting
		want     string
	}{
		{[]debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}}, rev},
		{[]debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "true"}}, rev + "+modified"},
		{[]debug.BuildSetting{{Key: "-buildvcs", Value: "false"}}, "unknown"},
	} {
		if got := revision(c.settings); got != c.want {
			t.Errorf("revision(%v) = %q, want %q", c.settings, got, c.want)
		}
	}
}
