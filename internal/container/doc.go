// Package container runs one application in an OCI container through an
// OCI runtime (runc by default; crun where cgroup v2 is unified), not a
// home-made sandbox.
//
// A container gets: a user namespace mapping its uids onto a host uid
// range of its own (a Slot, held with a lock file for as long as the
// container may run, so no two live sessions share a uid); private pid,
// network, IPC, UTS, mount and cgroup namespaces; a read-only root (the
// host's system directories, or a directory such as an unpacked OCI
// image); a private /tmp; no capabilities, no_new_privs and a seccomp
// profile; cgroup limits on CPU, memory and processes. The caller binds in
// the few host paths the app may reach (its display socket, its cookie,
// its sound socket, its volumes).
//
// It owns the bundle (config.json and the root directory) and the
// runtime's command line. It knows nothing of X11, sound or sessions: the
// app host (streamer) decides what crosses into the container.
package container
