package container

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// RemoveStaleFilters deletes the outbound filter tables (filterTable) of
// this range's uids whose slot nobody holds and under which no process
// runs: what a network left when its holder was killed, say with the
// agent. A table still in use is never touched. It answers how many it
// removed; without nft there is nothing to remove.
func (s Slots) RemoveStaleFilters(ctx context.Context) (int, error) {
	if err := s.Validate(); err != nil {
		return 0, err
	}
	if _, err := exec.LookPath("nft"); err != nil {
		return 0, nil
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return 0, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	out, err := exec.CommandContext(ctx, "nft", "list", "tables", "inet").Output()
	if err != nil {
		return 0, fmt.Errorf("%w: nft list tables: %w", ErrUnavailable, err)
	}
	busy := uidsInUse(s)
	end := uint64(s.Base) + uint64(s.Count)*uint64(s.Size)
	removed := 0
	for line := range strings.Lines(string(out)) {
		name, ok := strings.CutPrefix(strings.TrimSpace(line), "table inet "+filterTablePrefix)
		if !ok {
			continue
		}
		uid, err := strconv.ParseUint(name, 10, 32)
		if err != nil || uid < uint64(s.Base) || uid >= end {
			continue
		}
		n := uint32((uid - uint64(s.Base)) / uint64(s.Size))
		if busy[n] {
			continue
		}
		slot, err := s.tryLock(n)
		if err != nil || slot == nil {
			continue // held: a live session's network
		}
		err = exec.CommandContext(ctx, "nft", "delete", "table", "inet", filterTable(uint32(uid))).Run()
		slot.Release()
		if err != nil {
			return removed, fmt.Errorf("%w: nft delete table %s: %w", ErrUnavailable, filterTable(uint32(uid)), err)
		}
		removed++
	}
	return removed, nil
}
