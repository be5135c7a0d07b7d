package agent

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/encoders"
	"github.com/streamstack/streamstack/fleet"
)

// appAgent is an agent of ample encoder capacity and session cap, so that
// only its app budget decides.
func appAgent(budget appNeed) *Agent {
	return &Agent{
		cfg:      Config{ID: "a", MaxSessions: 1 << 20, HeartbeatInterval: time.Second},
		pools:    []poolState{cpuPool(1e9, 1, 1)},
		running:  map[string]*streamerProc{},
		now:      func() time.Time { return time.Unix(0, 0) },
		appTotal: budget,
	}
}

var (
	pattern = appNeed{}
	xterm   = appNeed{cpu: 1, memoryMB: 1024}
)

func TestDecideRefusesAppOverBudgetAdmitsPattern(t *testing.T) {
	pl := placement{self: "a", pools: []poolState{cpuPool(8, 1, 1)},
		app: appBudget{total: appNeed{cpu: 4, memoryMB: 2048}, used: appNeed{cpu: 1, memoryMB: 1500}}}
	if _, v := pl.decide(need{units: 1, app: xterm}, time.Hour); v != wait {
		t.Fatal("an app whose memory does not fit was placed")
	}
	if c, v := pl.decide(need{units: 1, app: pattern}, 0); v != place || c.pool != encoders.PoolCPU {
		t.Fatalf("the test pattern, which needs no app budget, was refused: %+v %v", c, v)
	}
	if _, v := pl.decide(need{units: 1, app: appNeed{cpu: 1, memoryMB: 548}}, 0); v != place {
		t.Fatal("an app that fits the memory left exactly was refused")
	}
	pl.app.used = appNeed{cpu: 3.5, memoryMB: 0}
	if _, v := pl.decide(need{units: 1, app: xterm}, 0); v != wait {
		t.Fatal("an app whose CPU does not fit was placed")
	}
	if _, v := pl.decide(need{units: 1, app: appNeed{cpu: 0.5, memoryMB: 1024}}, 0); v != place {
		t.Fatal("an app that fits the CPU left exactly was refused")
	}
}

func TestReserveHoldsAppBudgetAndReleaseFreesIt(t *testing.T) {
	a := appAgent(appNeed{cpu: 2, memoryMB: 2048})
	for _, id := range []string{"x1", "x2"} {
		if _, _, ok := a.reserve(id, need{units: 1, app: xterm}, 0); !ok {
			t.Fatalf("%s refused with the budget free", id)
		}
	}
	if _, _, ok := a.reserve("x3", need{units: 1, app: xterm}, 0); ok {
		t.Fatal("a third app placed beyond the budget")
	}
	if _, _, ok := a.reserve("p1", need{units: 1, app: pattern}, 0); !ok {
		t.Fatal("a pattern session refused for the apps' budget")
	}
	if u := a.appsLocked().used; u != (appNeed{cpu: 2, memoryMB: 2048}) {
		t.Fatalf("used %+v", u)
	}
	a.release("p1")
	if _, _, ok := a.reserve("x3", need{units: 1, app: xterm}, 0); ok {
		t.Fatal("releasing a pattern session freed app budget")
	}
	a.release("x1")
	if u := a.appsLocked().used; u != (appNeed{cpu: 1, memoryMB: 1024}) {
		t.Fatalf("after a release: used %+v", u)
	}
	if _, _, ok := a.reserve("x3", need{units: 1, app: xterm}, 0); !ok {
		t.Fatal("the budget a release freed was not admitted")
	}
	a.release("x2")
	a.release("x3")
	a.release("x3") // twice: no-op
	if u := a.appsLocked().used; !u.zero() || len(a.appHeld) != 0 {
		t.Fatalf("all released: used %+v, held %v", u, a.appHeld)
	}
}

// TestAppBudgetProperties drives one agent with random apps, patterns
// and releases: it admits a session exactly when its app fits beside
// those held (refusing it otherwise, as for encoder capacity), and what
// the apps hold never exceeds the budget.
func TestAppBudgetProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	kinds := []appNeed{pattern, xterm, {cpu: 0.5, memoryMB: 256}, {cpu: 2, memoryMB: 4096}, {cpu: 0.25, memoryMB: 3000}}
	outcomes := map[string]int{}
	for round := range 50 {
		budget := appNeed{cpu: float64(1 + rng.IntN(8)), memoryMB: 512 * (1 + rng.IntN(16))}
		a := appAgent(budget)
		held := map[string]appNeed{}
		for i := range 300 {
			if len(held) > 0 && rng.IntN(3) == 0 {
				for id := range held {
					a.release(id)
					delete(held, id)
					break
				}
			}
			var sum appNeed
			for _, n := range held {
				sum.cpu += n.cpu
				sum.memoryMB += n.memoryMB
			}
			n := kinds[rng.IntN(len(kinds))]
			fits := sum.cpu+n.cpu <= budget.cpu+1e-9 && sum.memoryMB+n.memoryMB <= budget.memoryMB
			id := string(rune('a'+round%26)) + string(rune(i))
			_, _, ok := a.reserve(id, need{units: 0.25, app: n}, 0)
			if ok != fits {
				t.Fatalf("round %d: %+v with %+v held of %+v: admitted %v", round, n, sum, budget, ok)
			}
			switch {
			case ok && n.zero():
				outcomes["pattern"]++
			case ok:
				outcomes["app"]++
			default:
				outcomes["refused"]++
			}
			if ok {
				held[id] = n
			}
			u := a.appsLocked().used
			if u.cpu > budget.cpu+1e-9 || u.memoryMB > budget.memoryMB {
				t.Fatalf("round %d: apps hold %+v of %+v", round, u, budget)
			}
		}
	}
	t.Logf("outcomes: %v", outcomes)
	for _, o := range []string{"pattern", "app", "refused"} {
		if outcomes[o] == 0 {
			t.Errorf("no %q outcome in the run: the test lost its reach", o)
		}
	}
}

// TestAppBudgetConcurrent reserves and releases from many goroutines at
// once (run it with -race) while a watcher checks, under the agent's
// lock, that the apps never hold more than the budget.
func TestAppBudgetConcurrent(t *testing.T) {
	budget := appNeed{cpu: 3, memoryMB: 4096}
	a := appAgent(budget)
	kinds := []appNeed{pattern, xterm, {cpu: 0.5, memoryMB: 512}, {cpu: 1.5, memoryMB: 2048}}
	stop := make(chan struct{})
	var watch sync.WaitGroup
	var over error
	watch.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			a.mu.Lock()
			u := a.appsLocked().used
			a.mu.Unlock()
			if u.cpu > budget.cpu+1e-9 || u.memoryMB > budget.memoryMB {
				over = errors.New("over budget")
				t.Errorf("apps hold %+v of %+v", u, budget)
				return
			}
			runtime.Gosched()
		}
	})
	var admitted, refused sync.Map
	var workers sync.WaitGroup
	for w := range 16 {
		workers.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 7))
			var mine []string
			for i := range 400 {
				id := string(rune('A'+w)) + "-" + string(rune('a'+i%26)) + string(rune(i))
				n := kinds[rng.IntN(len(kinds))]
				if _, _, ok := a.reserve(id, need{units: 0.25, app: n}, 0); ok {
					admitted.Store(id, n)
					mine = append(mine, id)
				} else {
					refused.Store(id, n)
				}
				if len(mine) > 0 && rng.IntN(2) == 0 {
					k := rng.IntN(len(mine))
					a.release(mine[k])
					mine = append(mine[:k], mine[k+1:]...)
				}
			}
			for _, id := range mine {
				a.release(id)
			}
		})
	}
	workers.Wait()
	close(stop)
	watch.Wait()
	if over != nil {
		return
	}
	if u := a.appsLocked().used; !u.zero() || len(a.appHeld) != 0 || len(a.running) != 0 {
		t.Fatalf("everything released: apps hold %+v, %d held, %d running", u, len(a.appHeld), len(a.running))
	}
	count := func(m *sync.Map) (n int) {
		m.Range(func(any, any) bool { n++; return true })
		return n
	}
	if count(&admitted) == 0 || count(&refused) == 0 {
		t.Fatalf("admitted %d, refused %d: the test lost its reach", count(&admitted), count(&refused))
	}
}

// A peer's free hardware is worth waiting for only if its app budget has
// room for the session's app too; a peer that reports no budget (older
// than it) is taken at its word.
func TestHardwareElsewhereNeedsRoomForTheApp(t *testing.T) {
	now := time.Unix(1000, 0)
	peer := fleet.Heartbeat{ID: "b", MaxSessions: 16, At: now,
		Backends:    []fleet.Backend{{Name: "h264_nvenc", Hardware: true, Codecs: h264, Pool: "nvenc", TotalUnits: 4, FreeUnits: 4}},
		AppCPUTotal: 4, AppCPUFree: 4, AppMemoryTotalMB: 4096, AppMemoryFreeMB: 512}
	pl := placement{self: "a", pools: []poolState{cpuPool(8, 1, 1)}, peers: []fleet.Heartbeat{peer},
		now: now, maxAge: 6 * time.Second, hardwareWait: 2 * time.Second,
		app: appBudget{total: appNeed{cpu: 8, memoryMB: 8192}}}
	if _, v := pl.decide(need{units: 1, codecs: h264, app: xterm}, 0); v != place {
		t.Fatal("waited for hardware on an agent without memory for the app")
	}
	if _, v := pl.decide(need{units: 1, codecs: h264, app: pattern}, 0); v != wait {
		t.Fatal("a pattern session took software while hardware is free elsewhere")
	}
	old := pl
	old.peers = []fleet.Heartbeat{peer}
	old.peers[0].AppCPUTotal, old.peers[0].AppCPUFree, old.peers[0].AppMemoryTotalMB, old.peers[0].AppMemoryFreeMB = 0, 0, 0, 0
	if _, v := old.decide(need{units: 1, codecs: h264, app: xterm}, 0); v != wait {
		t.Fatal("a peer reporting no app budget was not waited for")
	}
}

func TestAppNeedOf(t *testing.T) {
	catalog, err := apps.New([]apps.App{
		{Name: "test-pattern", Kind: apps.KindPattern},
		{Name: "plain", Kind: apps.KindX11, Command: []string{"xterm"}},
		{Name: "big", Kind: apps.KindX11, Command: []string{"big"}, Limits: apps.Limits{CPU: 2.5, MemoryMB: 6144}},
		{Name: "half", Kind: apps.KindX11, Command: []string{"half"}, Limits: apps.Limits{MemoryMB: 256}},
	})
	if err != nil {
		t.Fatal(err)
	}
	d := apps.DefaultLimits()
	a := &Agent{catalog: catalog}
	for name, want := range map[string]appNeed{
		"test-pattern": {},
		"plain":        {cpu: d.CPU, memoryMB: d.MemoryMB},
		"big":          {cpu: 2.5, memoryMB: 6144},
		"half":         {cpu: d.CPU, memoryMB: 256},
	} {
		if got, err := a.appNeedOf(name); err != nil || got != want {
			t.Errorf("%s: %+v %v, want %+v", name, got, err, want)
		}
	}
	got, err := a.appNeedOf("elsewhere")
	if !errors.Is(err, apps.ErrUnknown) || got != (appNeed{cpu: d.CPU, memoryMB: d.MemoryMB}) {
		t.Errorf("an app the catalogue lacks: %+v %v, want the default limits and ErrUnknown", got, err)
	}
}

func TestAppCatalogIsTheStreamers(t *testing.T) {
	path := filepath.Join(t.TempDir(), "apps.json")
	if err := os.WriteFile(path, []byte(`{"apps": [{"name": "paint", "kind": "x11", "command": ["paint"], "limits": {"memory_mb": 2048}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := appCatalog(Config{StreamerEnv: []string{"STREAMSTACK_LOG_LEVEL=error", "STREAMSTACK_APPS_FILE=" + path}})
	if err != nil {
		t.Fatal(err)
	}
	if app, err := c.Lookup("paint"); err != nil || app.Limits.MemoryMB != 2048 {
		t.Fatalf("the streamers' catalogue: %+v %v", app, err)
	}
	explicit := apps.Default()
	if c, err := appCatalog(Config{Apps: explicit, StreamerEnv: []string{"STREAMSTACK_APPS_FILE=" + path}}); err != nil || c != explicit {
		t.Fatalf("Config.Apps did not win: %v", err)
	}
	if c, err := appCatalog(Config{}); err != nil || len(c.List()) != len(apps.Default().List()) {
		t.Fatalf("no catalogue named: %v", err)
	}
	if _, err := appCatalog(Config{StreamerEnv: []string{"STREAMSTACK_APPS_FILE=" + path + ".missing"}}); err == nil {
		t.Fatal("a missing catalogue file was not an error")
	}
}

func TestAppBudgetDefaults(t *testing.T) {
	b, err := appBudgetOf(Config{AppCPU: 2.5, AppMemoryMB: 3000})
	if err != nil || b != (appNeed{cpu: 2.5, memoryMB: 3000}) {
		t.Fatalf("set: %+v %v", b, err)
	}
	for _, c := range []Config{{AppCPU: -1}, {AppMemoryMB: -1}} {
		if _, err := appBudgetOf(c); !errors.Is(err, ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", c, err)
		}
	}
	if _, err := os.Stat("/proc/meminfo"); err == nil {
		b, err := appBudgetOf(Config{})
		if err != nil || b.cpu != float64(runtime.NumCPU()) || b.memoryMB <= 0 {
			t.Fatalf("defaults: %+v %v", b, err)
		}
		total, _ := hostMemoryMB()
		if b.memoryMB != defaultAppMemoryMB(total) {
			t.Fatalf("default memory %d of a %d MiB host", b.memoryMB, total)
		}
	}
	for total, want := range map[int]int{
		24105: 24105 - 2410, // a tenth
		4096:  4096 - 512,   // the least reserve
		512:   0,
	} {
		if got := defaultAppMemoryMB(total); got != want {
			t.Errorf("defaultAppMemoryMB(%d) = %d, want %d", total, got, want)
		}
	}
}

func TestMemTotalMB(t *testing.T) {
	mb, err := memTotalMB(strings.NewReader("MemTotal:       24683748 kB\nMemFree:         1000000 kB\n"))
	if err != nil || mb != 24683748/1024 {
		t.Fatalf("%d %v", mb, err)
	}
	for _, bad := range []string{"", "MemFree: 1 kB\n", "MemTotal: 12 MB\n", "MemTotal: x kB\n", "MemTotal: -5 kB\n"} {
		if _, err := memTotalMB(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
