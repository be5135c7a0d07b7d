package container

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// deniedSyscalls fail with EPERM in every container: what changes the
// kernel, its clock, its keyrings or mounts, loads code into it, makes new
// namespaces, or widens its attack surface (BPF, perf, io_uring,
// userfaultfd), and nothing an X11 app needs. The rest is allowed: with
// no capabilities and no_new_privs the kernel already refuses what needs
// privilege; this list shrinks what an unprivileged exploit can reach.
// The same choices as Docker's and Podman's default profiles, written as
// a deny list so that a new syscall an app needs is not refused.
var deniedSyscalls = []string{
	"acct", "add_key", "adjtimex", "bpf", "clock_adjtime", "clock_settime", "create_module",
	"delete_module", "finit_module", "fsconfig", "fsmount", "fsopen", "fspick", "get_kernel_syms",
	"init_module", "io_uring_enter", "io_uring_register", "io_uring_setup", "ioperm", "iopl",
	"kexec_file_load", "kexec_load", "keyctl", "lookup_dcookie", "mount", "mount_setattr",
	"move_mount", "name_to_handle_at", "nfsservctl", "open_by_handle_at", "open_tree",
	"perf_event_open", "pivot_root", "query_module", "quotactl", "quotactl_fd", "reboot",
	"request_key", "setns", "settimeofday", "swapoff", "swapon", "syslog", "umount", "umount2",
	"unshare", "uselib", "userfaultfd", "ustat", "vhangup", "vm86", "vm86old",
}

// nsFlags are clone's namespace flags: a clone with any of them set is
// refused like unshare (so an app that sandboxes itself with namespaces,
// such as Chromium, needs its own sandbox off: the container is one).
var nsFlags = []uint64{unix.CLONE_NEWNS, unix.CLONE_NEWUTS, unix.CLONE_NEWIPC, unix.CLONE_NEWUSER,
	unix.CLONE_NEWPID, unix.CLONE_NEWNET, unix.CLONE_NEWCGROUP}

// seccompProfile is the profile every container runs under.
func seccompProfile() *specs.LinuxSeccomp {
	eperm := uint(unix.EPERM)
	enosys := uint(unix.ENOSYS)
	p := &specs.LinuxSeccomp{
		DefaultAction: specs.ActAllow,
		Architectures: []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32, specs.ArchAARCH64, specs.ArchARM},
		Syscalls: []specs.LinuxSyscall{
			{Names: deniedSyscalls, Action: specs.ActErrno, ErrnoRet: &eperm},
			// clone3 passes its flags in memory, out of a filter's reach:
			// ENOSYS makes the C library fall back to clone, which is
			// checked below.
			{Names: []string{"clone3"}, Action: specs.ActErrno, ErrnoRet: &enosys},
		},
	}
	// clone's flags are its first argument on x86 and arm. Rules of one
	// syscall are alternatives: one per flag refuses a clone with any.
	for _, f := range nsFlags {
		p.Syscalls = append(p.Syscalls, specs.LinuxSyscall{Names: []string{"clone"}, Action: specs.ActErrno,
			ErrnoRet: &eperm, Args: []specs.LinuxSeccompArg{{Index: 0, Value: f, ValueTwo: f, Op: specs.OpMaskedEqual}}})
	}
	return p
}
