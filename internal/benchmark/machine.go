package benchmark

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
)

// Machine names where a table was measured: a figure without its machine
// and code cannot be compared with another.
type Machine struct {
	CPU   string // model name from /proc/cpuinfo; "unknown" elsewhere
	Cores int
	Go    string // the Go version the binary was built with
	// Revision is the VCS revision the binary was built from, with
	// "+modified" when the tree had uncommitted changes; "unknown" when
	// it was built without VCS stamping (go run, -buildvcs=false).
	Revision string
}

// ReadMachine describes this machine and binary.
func ReadMachine() Machine {
	m := Machine{CPU: "unknown", Cores: runtime.NumCPU(), Go: runtime.Version(), Revision: "unknown"}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		if model := cpuModel(string(b)); model != "" {
			m.CPU = model
		}
	}
	if info, ok := debug.ReadBuildInfo(); ok {
		m.Revision = revision(info.Settings)
	}
	return m
}

// cpuModel is the first "model name" of a /proc/cpuinfo (x86), or its
// "Model"/"cpu model" line on the architectures that name it so.
func cpuModel(cpuinfo string) string {
	sc := bufio.NewScanner(strings.NewReader(cpuinfo))
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		switch strings.TrimSpace(key) {
		case "model name", "Model", "cpu model":
			if v := strings.TrimSpace(value); v != "" {
				return v
			}
		}
	}
	return ""
}

// revision reads vcs.revision and vcs.modified from the build settings.
func revision(settings []debug.BuildSetting) string {
	rev, modified := "", false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if modified {
		rev += "+modified"
	}
	return rev
}

// LoadAverage is /proc/loadavg's three averages ("1.20 0.80 0.50"), or
// "?" where there is none.
func LoadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
