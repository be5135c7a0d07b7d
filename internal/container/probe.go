package container

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Inventory says whether this host can run containers, and why not.
type Inventory struct {
	// Available is true when a test container ran.
	Available bool `json:"available"`
	// Runtime is the runtime's first version line ("runc version 1.1.5").
	Runtime string `json:"runtime,omitempty"`
	// Reason says why containers are unavailable.
	Reason string `json:"reason,omitempty"`
}

// Probe runs a container that does nothing, under the same spec shape as
// an app's, to know that this host can: the runtime is there, we are root
// (a uid range per session needs it), user namespaces can be made, the
// cgroup limits apply. dir is where the test bundle is made.
func (r Runtime) Probe(ctx context.Context, slots Slots, dir string) Inventory {
	inv, err := r.probe(ctx, slots, dir)
	if err != nil {
		inv.Reason = err.Error()
		return inv
	}
	inv.Available = true
	return inv
}

func (r Runtime) probe(ctx context.Context, slots Slots, dir string) (Inventory, error) {
	var inv Inventory
	bin, err := exec.LookPath(r.binary())
	if err != nil {
		return inv, fmt.Errorf("no container runtime %q: %w (install runc)", r.binary(), err)
	}
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return inv, fmt.Errorf("%s --version: %w", bin, err)
	}
	inv.Runtime, _, _ = strings.Cut(string(out), "\n")
	if os.Geteuid() != 0 {
		return inv, fmt.Errorf("containers need root: each session's uids are a host range of their own")
	}
	if b, err := os.ReadFile("/proc/sys/user/max_user_namespaces"); err == nil && strings.TrimSpace(string(b)) == "0" {
		return inv, fmt.Errorf("user namespaces are disabled (user.max_user_namespaces is 0)")
	}
	slot, err := slots.Acquire()
	if err != nil {
		return inv, err
	}
	defer slot.Release()
	tmp, err := os.MkdirTemp(dir, "streamstack-probe-")
	if err != nil {
		return inv, err
	}
	defer func() { _ = os.RemoveAll(tmp) }()
	if err := os.Chmod(tmp, 0o711); err != nil {
		return inv, err
	}
	id := fmt.Sprintf("streamstack-probe-%d-%d", os.Getpid(), time.Now().UnixNano())
	var log bytes.Buffer
	c, err := r.Start(ctx, Spec{ID: id, Args: []string{"/bin/true"}, UID: 1000, GID: 1000, Slot: slot,
		Limits: Limits{CPU: 0.1, MemoryBytes: 64 << 20, Pids: 16}}, tmp, &log)
	if err != nil {
		return inv, err
	}
	select {
	case <-c.Done():
	case <-ctx.Done():
	}
	c.Stop(time.Second)
	if err := c.Err(); err != nil {
		return inv, fmt.Errorf("a test container failed: %v: %s", err, strings.TrimSpace(log.String()))
	}
	return inv, nil
}
