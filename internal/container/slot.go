package container

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// Slots hands out host uid ranges, one per live container. Slot n maps
// container uids 0..Size-1 onto host uids Base+n*Size...; a lock file per
// slot (flock, which the kernel drops when its holder dies however it
// dies) makes a slot one process's at a time, across every streamer and
// agent of the host.
type Slots struct {
	// Dir holds the lock files; made 0700 if missing.
	Dir string
	// Base is the first host uid of slot 0; Count slots of Size uids each.
	Base, Count, Size uint32
}

// DefaultSlots: well above the ranges useradd hands out in /etc/subuid
// (from 100000 up, 65536 each), 4096 sessions per host.
func DefaultSlots() Slots {
	return Slots{Dir: filepath.Join(DefaultRunDir, "uid-slots"), Base: 1_000_000_000, Count: 4096, Size: 65536}
}

// Validate checks the range fits in uid_t below the overflow ids.
func (s Slots) Validate() error {
	switch {
	case s.Dir == "":
		return fmt.Errorf("%w: slots need a lock directory", ErrSpec)
	case s.Count == 0 || s.Size == 0:
		return fmt.Errorf("%w: %d slots of %d uids", ErrSpec, s.Count, s.Size)
	case s.Base < 65536:
		return fmt.Errorf("%w: uid base %d overlaps the host's own users", ErrSpec, s.Base)
	case uint64(s.Base)+uint64(s.Count)*uint64(s.Size) > 1<<32-2:
		return fmt.Errorf("%w: uid range %d+%d×%d passes the largest uid", ErrSpec, s.Base, s.Count, s.Size)
	}
	return nil
}

// Slot is one held uid range.
type Slot struct {
	// N is the slot's number; HostBase the host uid of container uid 0.
	N        uint32
	HostBase uint32
	Size     uint32
	lock     *os.File
	path     string
}

// HostUID is the host uid of container uid u.
func (s *Slot) HostUID(u uint32) uint32 { return s.HostBase + u }

// Acquire takes the lowest free slot whose uid range has no process
// left: a slot whose last holder was killed is free again only once what
// ran under its uids has gone too.
func (s Slots) Acquire() (*Slot, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	busy := uidsInUse(s)
	for n := range s.Count {
		if busy[n] {
			continue
		}
		sl, err := s.tryLock(n)
		if err != nil {
			return nil, err
		}
		if sl != nil {
			return sl, nil
		}
	}
	return nil, fmt.Errorf("%w: %d slots in %s", ErrNoSlot, s.Count, s.Dir)
}

// tryLock takes slot n's lock without waiting; nil when another holds
// it. A lock file is unlinked by Release while still locked, so one
// opened before that and locked after is stale: the inode check retries.
func (s Slots) tryLock(n uint32) (*Slot, error) {
	path := filepath.Join(s.Dir, strconv.FormatUint(uint64(n), 10)+".lock")
	for {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
		if err != nil {
			return nil, fmt.Errorf("%w: slot lock: %w", ErrUnavailable, err)
		}
		if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			_ = f.Close()
			if err == syscall.EWOULDBLOCK {
				return nil, nil
			}
			return nil, fmt.Errorf("%w: slot lock: %w", ErrUnavailable, err)
		}
		var held, now syscall.Stat_t
		if syscall.Fstat(int(f.Fd()), &held) == nil && syscall.Stat(path, &now) == nil && held.Ino == now.Ino {
			return &Slot{N: n, HostBase: s.Base + n*s.Size, Size: s.Size, lock: f, path: path}, nil
		}
		_ = f.Close()
	}
}

// Release gives the slot back. Call it once nothing of the container
// runs any more.
func (s *Slot) Release() {
	if s == nil || s.lock == nil {
		return
	}
	_ = os.Remove(s.path)
	_ = s.lock.Close()
	s.lock = nil
}

// uidsInUse marks the slots with a process still running under one of
// their uids (the owner of /proc/<pid> is its effective uid).
func uidsInUse(s Slots) map[uint32]bool {
	busy := map[uint32]bool{}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return busy
	}
	end := uint64(s.Base) + uint64(s.Count)*uint64(s.Size)
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		var st syscall.Stat_t
		if syscall.Stat("/proc/"+e.Name(), &st) != nil {
			continue
		}
		if uint64(st.Uid) >= uint64(s.Base) && uint64(st.Uid) < end {
			busy[(st.Uid-s.Base)/s.Size] = true
		}
	}
	return busy
}
