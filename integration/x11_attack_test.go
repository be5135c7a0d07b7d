package integration

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/streamstack/streamstack/apps"
	"github.com/streamstack/streamstack/client"
	"github.com/streamstack/streamstack/internal/natstest"
	"github.com/streamstack/streamstack/session"
	"github.com/streamstack/streamstack/streamer"
)

// attackScript is what a hostile app tries from inside its container,
// with the tools a user would use; it writes one line per attempt into
// its report volume, then kills everything it can.
const attackScript = `
r=/report/report; : > $r
say() { echo "$*" >> $r; }
# Every display it can name, with every cookie it can find.
cookies=$(find / -xdev \( -name 'Xauthority*' -o -name '.Xauthority' \) 2>/dev/null)
for n in 1 2 3 4 5 6 7 8 9 10; do
  for c in /dev/null $cookies; do
    XAUTHORITY=$c xdpyinfo -display :$n >/dev/null 2>&1 && say "BREACH display :$n with $c"
  done
  XAUTHORITY=/tmp/.streamstack/Xauthority xwd -root -display 127.0.0.1:$n -silent >/dev/null 2>&1 && say "BREACH tcp display $n"
done
# Every sound server socket it can find but its own.
for s in $(find / -xdev -type s -name native 2>/dev/null); do
  timeout 2 parec --server unix:$s --raw -n attack >/dev/null 2>&1; [ $? = 124 ] && say "BREACH sound $s"
done
# Processes and their environment.
ps ax -o comm= | grep -E 'Xvfb|streamstack|pulseaudio|runc|nats' | sed 's/^/BREACH process /' >> $r
cat /proc/[0-9]*/environ 2>/dev/null | tr '\0' '\n' | grep -E 'STREAMSTACK|NATS|TOKEN' | sed 's/^/BREACH environ /' >> $r
# The host's loopback: NATS and the gateway.
for p in $(cat /report/ports); do
  timeout 2 bash -c "echo > /dev/tcp/127.0.0.1/$p" 2>/dev/null && say "BREACH port $p"
done
# Writing outside its volume and /tmp.
for d in / /usr /etc /var /home /root /opt /run; do
  touch $d/pwned 2>/dev/null && say "BREACH wrote $d/pwned"
done
say "done procs=$(ls -d /proc/[0-9]* | wc -l)"
kill -9 -1
`

// An app in its container reaches nothing of another session or of the
// stack: display, sound, processes, environment, host ports and files;
// its `kill -9 -1` ends only itself, and the other session keeps
// streaming.
func TestX11AppCannotReachAnotherSession(t *testing.T) {
	if appIsolation(t) != streamer.IsolationContainer {
		t.Skip("the attack is on containers, which this host cannot run (see the log)")
	}
	report := t.TempDir()
	for _, d := range []string{filepath.Dir(report), report} { // the container's uids write the report
		if err := os.Chmod(d, 0o777); err != nil {
			t.Fatal(err)
		}
	}
	attacker := apps.App{Name: "attacker", Kind: apps.KindX11, Command: []string{"/bin/sh", "-c", attackScript},
		Screen: x11Screen, Volumes: []apps.Volume{{Source: report, Target: "/report"}}}
	st := startX11Stack(t, attacker)
	ctx := testCtx(t)
	// The ports it tries: the stack's NATS and gateway on the host's
	// loopback.
	var ports []string
	for _, u := range []string{st.Server.ClientURL(), st.URL} {
		if pu, err := url.Parse(u); err == nil {
			ports = append(ports, pu.Port())
		}
	}
	if err := os.WriteFile(filepath.Join(report, "ports"), []byte(strings.Join(ports, " ")), 0o644); err != nil {
		t.Fatal(err)
	}

	var pic lastPicture
	victim, _ := st.open(t, ctx, client.CreateRequest{App: "paint"}, client.Options{OnFrame: pic.onFrame})
	natstest.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if m, _ := pic.meanY(100, 100, 16, 16); m < 200 {
			return fmt.Errorf("waiting for the victim's white window (luma %.0f)", m)
		}
		return nil
	})

	info, err := st.api.Create(ctx, client.CreateRequest{App: "attacker"})
	if err != nil {
		t.Fatal(err)
	}
	var got string
	natstest.CheckFor(t, 60*time.Second, 50*time.Millisecond, func() error {
		b, _ := os.ReadFile(filepath.Join(report, "report"))
		if got = string(b); !strings.Contains(got, "done") {
			return fmt.Errorf("attack still running: %q", got)
		}
		return nil
	})
	t.Logf("attacker's report:\n%s", got)
	if strings.Contains(got, "BREACH") {
		t.Errorf("the app reached beyond its container:\n%s", got)
	}
	// Its kill -9 -1 ended its own session, with its app.
	st.waitStatus(t, info.ID, func(r *session.Session) bool { return r.Status.Ended() })

	// The victim streams on: new frames after all that.
	_, before := pic.meanY(0, 0, 1, 1)
	natstest.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if _, at := pic.meanY(0, 0, 1, 1); !at.After(before) {
			return fmt.Errorf("no frame of the victim since %v", before)
		}
		return nil
	})
	if rec := st.waitStatus(t, victim.ID, func(r *session.Session) bool { return true }); rec.Status.Ended() {
		t.Errorf("the victim's session ended: %s %q", rec.Status, rec.Reason)
	}
}
