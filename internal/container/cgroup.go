package container

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupRoot is where the cgroup hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// cgroupFiles are the counters of one container's cgroup: the OOM kills
// and the times fork was refused at the pids limit.
type cgroupFiles struct {
	oom, pids string // file paths
	oomKey    string // the line of oom that counts kills
}

// cgroupFilesOf locates container id's counters, under the unified
// hierarchy (cgroup v2) or the memory and pids ones (v1, or hybrid), as
// the runtime's cgroupfs driver lays out CgroupPath.
func cgroupFilesOf(id string) cgroupFiles {
	rel := CgroupPath(id)
	if _, err := os.Stat(filepath.Join(cgroupRoot, "cgroup.controllers")); err == nil {
		dir := filepath.Join(cgroupRoot, rel)
		return cgroupFiles{oom: filepath.Join(dir, "memory.events"), pids: filepath.Join(dir, "pids.events"), oomKey: "oom_kill"}
	}
	return cgroupFiles{oom: filepath.Join(cgroupRoot, "memory", rel, "memory.oom_control"),
		pids: filepath.Join(cgroupRoot, "pids", rel, "pids.events"), oomKey: "oom_kill"}
}

// hit reports a non-zero OOM kill or pids-max count.
func (f cgroupFiles) hit() bool {
	return counter(f.oom, f.oomKey) > 0 || counter(f.pids, "max") > 0
}

// counter reads "key N" from a flat-keyed cgroup file; 0 when absent.
func counter(path, key string) uint64 {
	fh, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer func() { _ = fh.Close() }()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), " ")
		if ok && k == key {
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return 0
}

// removeCgroups kills what is left in container id's cgroups and removes
// them, in every hierarchy: the runtime's delete does not when its `run`
// process was killed before it could record them.
func removeCgroups(ctx context.Context, id string) error {
	dirs, _ := filepath.Glob(filepath.Join(cgroupRoot, "*", strings.TrimPrefix(CgroupPath(id), "/")))
	if d := filepath.Join(cgroupRoot, CgroupPath(id)); isDir(d) {
		dirs = append(dirs, d)
	}
	var last error
	for _, d := range dirs {
		for {
			if b, err := os.ReadFile(filepath.Join(d, "cgroup.procs")); err == nil {
				for _, f := range strings.Fields(string(b)) {
					if pid, err := strconv.Atoi(f); err == nil && pid > 0 {
						_ = syscall.Kill(pid, syscall.SIGKILL)
					}
				}
			}
			err := syscall.Rmdir(d)
			if err == nil || errors.Is(err, syscall.ENOENT) {
				break
			}
			if !errors.Is(err, syscall.EBUSY) || ctx.Err() != nil {
				last = fmt.Errorf("%w: cgroup %s: %w", ErrRuntime, d, err)
				break
			}
			time.Sleep(10 * time.Millisecond) // the killed are leaving
		}
	}
	return last
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
