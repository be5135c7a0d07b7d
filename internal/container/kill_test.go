package container

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// helperEnv makes the test binary a caller that starts a container and
// waits to be killed.
const helperEnv = "STREAMSTACK_CONTAINER_TEST_HELPER"

func TestMain(m *testing.M) {
	if spec := os.Getenv(helperEnv); spec != "" {
		os.Exit(helper(spec))
	}
	os.Exit(m.Run())
}

// helper runs "id dir stateDir slotDir base" as a caller would and prints
// the slot's number once the app runs, then blocks.
func helper(arg string) int {
	f := strings.Fields(arg)
	base, _ := strconv.ParseUint(f[4], 10, 32)
	slots := Slots{Dir: f[3], Base: uint32(base), Count: 64, Size: 65536}
	slot, err := slots.Acquire()
	if err != nil {
		fmt.Println("error", err)
		return 1
	}
	rt := Runtime{StateDir: f[2]}
	if _, err := rt.Start(context.Background(), Spec{ID: f[0], Args: []string{"/bin/sleep", "600"}, UID: 1000, GID: 1000,
		Slot: slot, Pdeathsig: true}, f[1], os.Stderr); err != nil {
		fmt.Println("error", err)
		return 1
	}
	fmt.Println("slot", slot.N)
	select {}
}

// A caller killed with SIGKILL takes its container with it: the runtime
// process dies with its parent, the app with the runtime process; what
// a supervisor then deletes leaves nothing, and the slot is free again.
func TestContainerDiesWithCaller(t *testing.T) {
	rt, slots := needRuntime(t)
	id := fmt.Sprintf("test-kill-%d", time.Now().UnixNano())
	// Whatever fails below, nothing of the container stays for the next run.
	t.Cleanup(func() { _ = rt.Delete(context.Background(), id) })
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+strings.Join([]string{id, bundleDir(t), rt.stateDir(), slots.Dir,
		strconv.FormatUint(uint64(slots.Base), 10)}, " "))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(out).ReadString('\n')
	var n uint32
	if _, err := fmt.Sscanf(line, "slot %d", &n); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		t.Fatalf("helper: %q", line)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !uidsInUse(slots)[n] {
		if time.Now().After(deadline) {
			t.Fatal("the app never ran")
		}
		time.Sleep(10 * time.Millisecond)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	deadline = time.Now().Add(10 * time.Second)
	for uidsInUse(slots)[n] {
		if time.Now().After(deadline) {
			t.Fatal("the app outlived its killed caller")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := rt.Delete(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	assertGone(t, rt, id)
	if err := rt.Delete(context.Background(), id); err != nil {
		t.Errorf("deleting a container that is gone: %v", err)
	}
	_ = os.Remove(filepath.Join(slots.Dir, strconv.Itoa(int(n))+".lock"))
}
