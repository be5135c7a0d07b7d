package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

// checkLeaks registers, before anything else is cleaned up, a check that runs
// after everything else is: no goroutine and no child process may outlive a
// test.
func checkLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() {
		if kids := childProcesses(); len(kids) > 0 {
			t.Errorf("child processes left behind: %v", kids)
		}
		if err := goleak.Find(ignore); err != nil {
			t.Error(err)
		}
	})
}

// childProcesses lists the pids of this process's children, from every
// thread's /proc children file (a child belongs to the thread that forked it).
func childProcesses() []string {
	files, _ := filepath.Glob("/proc/self/task/*/children")
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		out = append(out, strings.Fields(string(b))...)
	}
	return out
}
