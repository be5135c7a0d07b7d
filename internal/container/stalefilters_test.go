package container

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"
)

// A filter table left by a network whose holder was killed goes; one
// whose slot is held stays; tables of uids outside the range are not
// this range's to touch.
func TestRemoveStaleFilters(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("nft tables need root")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("nft is not installed: no filter tables to remove (scripts/install-deps.sh installs it)")
	}
	s := Slots{Dir: t.TempDir(), Base: 3_100_000_000, Count: 3, Size: 65536}
	held, err := s.tryLock(1)
	if err != nil || held == nil {
		t.Fatalf("lock slot 1: %v", err)
	}
	defer held.Release()
	stale, live, outside := s.Base+5, s.Base+s.Size+7, s.Base+s.Count*s.Size+1
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, uid := range []uint32{stale, live, outside} {
		if err := applyRules(ctx, filterRules(uid, nil)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = exec.Command("nft", "delete", "table", "inet", filterTable(uid)).Run() })
	}
	n, err := s.RemoveStaleFilters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 || tableExists(stale) || !tableExists(live) || !tableExists(outside) {
		t.Fatalf("removed %d; stale %v live %v outside %v", n, tableExists(stale), tableExists(live), tableExists(outside))
	}
}
