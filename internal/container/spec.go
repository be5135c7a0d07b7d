package container

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// DefaultRunDir holds the runtime's state and the uid slots' locks.
const DefaultRunDir = "/run/streamstack"

// Spec is one container.
type Spec struct {
	// ID names the container to the runtime: letters, digits, '-', '_', '.'.
	ID string
	// Args, Env and Cwd are the app's process; it runs as UID:GID inside.
	Args     []string
	Env      []string
	Cwd      string
	UID, GID uint32
	// Slot is the host uid range the container's uids map onto.
	Slot *Slot
	// Root is the root filesystem directory; empty: the host's system
	// directories (HostDirs), read-only.
	Root string
	// Binds are host paths (files or directories) made visible inside.
	Binds []Bind
	// Devices are host device nodes passed in (and allowed by the device
	// cgroup).
	Devices []string
	// NetNS, when set, is the network namespace to join (a path such as
	// /proc/<pid>/ns/net of a user-mode network); empty: a new one with
	// only loopback.
	NetNS string
	// Limits are the cgroup and rlimit bounds.
	Limits Limits
	// TmpMB is the size of the private /tmp.
	TmpMB int
	// Pdeathsig wraps Args in setpriv(1) --pdeathsig KILL, so the app's
	// init dies with the runtime process (itself the caller's child with
	// the same signal): a caller killed outright leaves no container.
	// Only where the root has /usr/bin/setpriv (the host's does).
	Pdeathsig bool
	// Gate, when set, is a FIFO the container sees at this path: the app
	// is exec'd only once a line is written to it (OpenGate). The
	// container starts while the caller still prepares what the app
	// needs, so the runtime's start-up cost is off the app's path. The
	// root needs /bin/sh.
	Gate string
}

// Bind is one host path bound into the container.
type Bind struct {
	Source, Target string
	ReadOnly       bool
}

// Limits bound a container. Zero leaves one unset.
type Limits struct {
	CPU          float64 // cores
	MemoryBytes  int64   // memory and swap together
	Pids         int64
	NoFile       uint64
	AddressSpace uint64 // bytes
	NProc        uint64
}

// HostDirs are what of the host a container without a Root of its own
// sees, read-only: programs, libraries and configuration. Nothing of
// /home, /root, /var, /run or /tmp: no other user's files, no state of
// the stack, no socket of another session.
var HostDirs = []string{"/usr", "/etc", "/opt", "/var/cache/fontconfig"}

// cgroupParent groups every container of the stack.
const cgroupParent = "/streamstack"

// ForSession names the container of a session's app: what a streamer
// starts and what an agent deletes after that streamer, however it ended.
func ForSession(sessionID string) string { return "ss-" + sessionID }

// CgroupPath is the container's cgroup, relative to each hierarchy.
func CgroupPath(id string) string { return cgroupParent + "/" + id }

func (s Spec) validate() error {
	switch {
	case !ValidID(s.ID):
		return fmt.Errorf("%w: id %q", ErrSpec, s.ID)
	case len(s.Args) == 0 || s.Args[0] == "":
		return fmt.Errorf("%w: no command", ErrSpec)
	case s.Slot == nil:
		return fmt.Errorf("%w: no uid slot", ErrSpec)
	case s.UID >= s.Slot.Size || s.GID >= s.Slot.Size:
		return fmt.Errorf("%w: uid %d outside the slot's %d", ErrSpec, s.UID, s.Slot.Size)
	}
	for _, b := range s.Binds {
		if !filepath.IsAbs(b.Source) || !filepath.IsAbs(b.Target) {
			return fmt.Errorf("%w: bind %s:%s", ErrSpec, b.Source, b.Target)
		}
	}
	if s.Gate != "" {
		if _, ok := s.hostPath("/bin/sh"); !ok || !filepath.IsAbs(s.Gate) {
			return fmt.Errorf("%w: a gate needs an absolute path and /bin/sh in the root", ErrSpec)
		}
	}
	return s.findCommand()
}

// ValidID reports whether id may name a container.
func ValidID(id string) bool {
	return id != "" && len(id) <= 128 && strings.IndexFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.')
	}) < 0 && id[0] != '.' && id[0] != '-'
}

// rootfs prepares the bundle's root: Root as it is, or an empty directory
// owned by the container's root (the runtime makes mount points in it
// from inside the user namespace before remounting it read-only) with the
// host's top-level links into /usr (merged /usr: /bin -> usr/bin).
func (s Spec) rootfs(bundle string) (path string, binds []Bind, err error) {
	if s.Root != "" {
		return s.Root, nil, nil
	}
	path = filepath.Join(bundle, "rootfs")
	if err := os.Mkdir(path, 0o755); err != nil {
		return "", nil, err
	}
	ents, err := os.ReadDir("/")
	if err != nil {
		return "", nil, err
	}
	for _, e := range ents {
		if e.Type()&os.ModeSymlink == 0 {
			continue
		}
		dst, err := os.Readlink("/" + e.Name())
		if err != nil || !strings.HasPrefix(dst, "usr/") && !strings.HasPrefix(dst, "/usr/") {
			continue
		}
		if err := os.Symlink(dst, filepath.Join(path, e.Name())); err != nil {
			return "", nil, err
		}
	}
	for _, d := range HostDirs {
		if fi, err := os.Stat(d); err == nil && fi.IsDir() {
			binds = append(binds, Bind{Source: d, Target: d, ReadOnly: true})
		}
	}
	if err := os.Lchown(path, int(s.Slot.HostBase), int(s.Slot.HostBase)); err != nil {
		return "", nil, err
	}
	return path, binds, nil
}

// config is the OCI runtime configuration of s with its root at root.
func (s Spec) config(root string, hostBinds []Bind) (*specs.Spec, error) {
	args := s.Args
	if s.Gate != "" {
		args = append([]string{"/bin/sh", "-c", `read -r _ < "$0" && exec "$@"`, s.Gate}, args...)
	}
	if s.Pdeathsig {
		args = append([]string{"/usr/bin/setpriv", "--pdeathsig", "KILL", "--"}, args...)
	}
	cwd := s.Cwd
	if cwd == "" {
		cwd = "/tmp"
	}
	tmp := s.TmpMB
	if tmp <= 0 {
		tmp = 256
	}
	c := &specs.Spec{
		Version: "1.0.2",
		Process: &specs.Process{
			User:            specs.User{UID: s.UID, GID: s.GID},
			Args:            args,
			Env:             s.Env,
			Cwd:             cwd,
			NoNewPrivileges: true,
			// No capability at all, not even those root inside a user
			// namespace would have.
			Capabilities: &specs.LinuxCapabilities{Bounding: []string{}, Effective: []string{},
				Permitted: []string{}, Inheritable: []string{}, Ambient: []string{}},
			Rlimits: s.Limits.rlimits(),
		},
		Root:     &specs.Root{Path: root, Readonly: true},
		Hostname: "app",
		Mounts: []specs.Mount{
			{Destination: "/proc", Type: "proc", Source: "proc", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/dev", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "strictatime", "mode=755", "size=64k"}},
			{Destination: "/dev/pts", Type: "devpts", Source: "devpts", Options: []string{"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
			{Destination: "/dev/shm", Type: "tmpfs", Source: "shm", Options: []string{"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
			{Destination: "/dev/mqueue", Type: "mqueue", Source: "mqueue", Options: []string{"nosuid", "noexec", "nodev"}},
			{Destination: "/sys", Type: "sysfs", Source: "sysfs", Options: []string{"nosuid", "noexec", "nodev", "ro"}},
			{Destination: "/tmp", Type: "tmpfs", Source: "tmpfs", Options: []string{"nosuid", "nodev", "mode=1777", fmt.Sprintf("size=%dm", tmp)}},
		},
		Linux: &specs.Linux{
			UIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: s.Slot.HostBase, Size: s.Slot.Size}},
			GIDMappings: []specs.LinuxIDMapping{{ContainerID: 0, HostID: s.Slot.HostBase, Size: s.Slot.Size}},
			Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}, {Type: specs.NetworkNamespace, Path: s.NetNS},
				{Type: specs.IPCNamespace}, {Type: specs.UTSNamespace}, {Type: specs.MountNamespace},
				{Type: specs.UserNamespace}, {Type: specs.CgroupNamespace}},
			CgroupsPath: CgroupPath(s.ID),
			Resources:   s.Limits.resources(),
			Seccomp:     seccompProfile(),
			MaskedPaths: []string{"/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
				"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
				"/sys/devices/virtual/powercap"},
			ReadonlyPaths: []string{"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"},
		},
	}
	if s.NetNS != "" {
		// A fresh sysfs needs the container's user namespace to own its
		// network namespace, which a joined one is not (runc refuses with
		// EPERM; crun binds too): the host's /sys read-only instead, its
		// cgroup tree masked.
		for i, m := range c.Mounts {
			if m.Destination == "/sys" {
				c.Mounts[i] = specs.Mount{Destination: "/sys", Type: "bind", Source: "/sys",
					Options: []string{"rbind", "ro", "nosuid", "nodev", "noexec"}}
			}
		}
		c.Linux.MaskedPaths = append(c.Linux.MaskedPaths, "/sys/fs/cgroup")
	}
	for _, b := range slices.Concat(hostBinds, s.Binds) {
		opts := []string{"rbind", "nosuid", "nodev"}
		if b.ReadOnly {
			opts = append(opts, "ro")
		}
		c.Mounts = append(c.Mounts, specs.Mount{Destination: b.Target, Type: "bind", Source: b.Source, Options: opts})
	}
	for _, d := range s.Devices {
		dev, err := device(d)
		if err != nil {
			return nil, err
		}
		c.Linux.Devices = append(c.Linux.Devices, dev)
		c.Linux.Resources.Devices = append(c.Linux.Resources.Devices, specs.LinuxDeviceCgroup{Allow: true,
			Type: dev.Type, Major: &dev.Major, Minor: &dev.Minor, Access: "rw"})
	}
	return c, nil
}

// device describes the host node at path for the runtime, which binds it
// in (a user namespace cannot mknod).
func device(path string) (specs.LinuxDevice, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return specs.LinuxDevice{}, fmt.Errorf("%w: device %s: %w", ErrSpec, path, err)
	}
	typ := ""
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFCHR:
		typ = "c"
	case syscall.S_IFBLK:
		typ = "b"
	default:
		return specs.LinuxDevice{}, fmt.Errorf("%w: %s is not a device", ErrSpec, path)
	}
	mode := os.FileMode(st.Mode & 0o777)
	return specs.LinuxDevice{Path: path, Type: typ, Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev)),
		FileMode: &mode}, nil
}

func (l Limits) resources() *specs.LinuxResources {
	r := &specs.LinuxResources{
		// Deny every device but what runc adds by default (null, zero,
		// full, random, urandom, tty, ptmx) and Devices.
		Devices: []specs.LinuxDeviceCgroup{{Allow: false, Access: "rwm"}},
	}
	if l.MemoryBytes > 0 {
		m := l.MemoryBytes
		r.Memory = &specs.LinuxMemory{Limit: &m, Swap: &m}
	}
	if l.Pids > 0 {
		r.Pids = &specs.LinuxPids{Limit: l.Pids}
	}
	if l.CPU > 0 {
		period := uint64(100_000)
		quota := int64(l.CPU * float64(period))
		r.CPU = &specs.LinuxCPU{Period: &period, Quota: &quota}
	}
	return r
}

func (l Limits) rlimits() []specs.POSIXRlimit {
	var out []specs.POSIXRlimit
	for _, r := range []struct {
		typ string
		v   uint64
	}{{"RLIMIT_NOFILE", l.NoFile}, {"RLIMIT_AS", l.AddressSpace}, {"RLIMIT_NPROC", l.NProc}, {"RLIMIT_CORE", 0}} {
		if r.v > 0 || r.typ == "RLIMIT_CORE" {
			out = append(out, specs.POSIXRlimit{Type: r.typ, Hard: r.v, Soft: r.v})
		}
	}
	return out
}
