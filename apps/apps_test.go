package apps

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestDefault(t *testing.T) {
	c := Default()
	for _, name := range []string{"test-pattern", "xterm"} {
		if _, err := c.Lookup(name); err != nil {
			t.Error(err)
		}
	}
	if _, err := c.Lookup("nope"); !errors.Is(err, ErrUnknown) {
		t.Errorf("unknown: %v", err)
	}
	x, _ := c.Lookup("xterm")
	x.Command[0] = "changed"
	if y, _ := c.Lookup("xterm"); y.Command[0] != "xterm" {
		t.Error("Lookup shares the command slice")
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "apps.json")
	if err := os.WriteFile(path, []byte(`{"apps":[{"name":"paint","kind":"x11","command":["xpaint"],
		"screen":{"width":800,"height":600},"limits":{"nofile":256}}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := c.Lookup("paint")
	if err != nil || a.Limits.NoFile != 256 || a.Screen.Width != 800 {
		t.Fatalf("%+v %v", a, err)
	}
	if c, err := Load(""); err != nil || len(c.List()) != 2 {
		t.Errorf("default: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for name, js := range map[string]string{
		"unknown field": `{"apps":[{"name":"a","kind":"pattern","colour":1}]}`,
		"no apps":       `{"apps":[]}`,
		"bad kind":      `{"apps":[{"name":"a","kind":"vm"}]}`,
		"x11 no cmd":    `{"apps":[{"name":"a","kind":"x11"}]}`,
		"pattern cmd":   `{"apps":[{"name":"a","kind":"pattern","command":["x"]}]}`,
		"twice":         `{"apps":[{"name":"a","kind":"pattern"},{"name":"a","kind":"pattern"}]}`,
		"bad name":      `{"apps":[{"name":"a b","kind":"pattern"}]}`,
		"odd screen":    `{"apps":[{"name":"a","kind":"pattern","screen":{"width":801}}]}`,
		"neg limit":     `{"apps":[{"name":"a","kind":"x11","command":["x"],"limits":{"nproc":-1}}]}`,
		"bad env":       `{"apps":[{"name":"a","kind":"x11","command":["x"],"env":["NOEQUALS"]}]}`,
		"not json":      `apps:`,
		"cpu too high":  `{"apps":[{"name":"a","kind":"x11","command":["x"],"limits":{"cpu":1000}}]}`,
		"tiny memory":   `{"apps":[{"name":"a","kind":"x11","command":["x"],"limits":{"memory_mb":1}}]}`,
		"root relative": `{"apps":[{"name":"a","kind":"x11","command":["x"],"root":"img/rootfs"}]}`,
		"root unclean":  `{"apps":[{"name":"a","kind":"x11","command":["x"],"root":"/img/../etc"}]}`,
		"bad network":   `{"apps":[{"name":"a","kind":"x11","command":["x"],"network":"host"}]}`,
		"device out":    `{"apps":[{"name":"a","kind":"x11","command":["x"],"devices":["/etc/shadow"]}]}`,
		"volume root":   `{"apps":[{"name":"a","kind":"x11","command":["x"],"volumes":[{"source":"/","target":"/data"}]}]}`,
		"volume /proc":  `{"apps":[{"name":"a","kind":"x11","command":["x"],"volumes":[{"source":"/srv/a","target":"/proc/x"}]}]}`,
		"volume /usr":   `{"apps":[{"name":"a","kind":"x11","command":["x"],"volumes":[{"source":"/srv/a","target":"/usr"}]}]}`,
		"pattern root":  `{"apps":[{"name":"a","kind":"pattern","root":"/srv/img"}]}`,
		"pattern warm":  `{"apps":[{"name":"a","kind":"pattern","warm":1}]}`,
		"warm too many": `{"apps":[{"name":"a","kind":"x11","command":["x"],"warm":9}]}`,
		"warm negative": `{"apps":[{"name":"a","kind":"x11","command":["x"],"warm":-1}]}`,
	} {
		if _, err := Parse([]byte(js)); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestWarmParses(t *testing.T) {
	c, err := Parse([]byte(`{"apps":[{"name":"term","kind":"x11","command":["xterm"],"warm":2}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if a, err := c.Lookup("term"); err != nil || a.Warm != 2 {
		t.Fatalf("%+v %v", a, err)
	}
}

func TestSandboxFields(t *testing.T) {
	c, err := Parse([]byte(`{"apps":[{"name":"game","kind":"x11","command":["/usr/bin/game"],
		"root":"/srv/images/game","network":"outbound","devices":["/dev/dri/renderD128"],
		"volumes":[{"source":"/srv/saves","target":"/home/app/saves"},{"source":"/srv/in","target":"/tmp/in","read_only":true}],
		"limits":{"cpu":1.5,"memory_mb":2048,"pids":256}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := c.Lookup("game")
	if a.Root != "/srv/images/game" || a.Network != NetworkOutbound || len(a.Devices) != 1 || len(a.Volumes) != 2 ||
		a.Limits.CPU != 1.5 || a.Limits.MemoryMB != 2048 || a.Limits.Pids != 256 {
		t.Fatalf("%+v", a)
	}
	a.Volumes[0].Source = "/changed"
	if b, _ := c.Lookup("game"); b.Volumes[0].Source != "/srv/saves" {
		t.Error("Lookup shares the volumes")
	}
	if l := (Limits{CPU: 2}).WithDefaults(); l.CPU != 2 || l.MemoryMB != DefaultLimits().MemoryMB || l.Pids != DefaultLimits().Pids {
		t.Errorf("WithDefaults: %+v", l)
	}
}
