package session

import "testing"

func TestPeersChangeEvents(t *testing.T) {
	o := Peer{ID: "o-1", Role: RoleController, Owner: true}
	v := Peer{ID: "v-1", Role: RoleViewer}
	oV, vC := o, v
	oV.Role, vC.Role = RoleViewer, RoleController
	for _, c := range []struct {
		name          string
		before, after []Peer
		want          string
	}{
		{"first", nil, []Peer{o}, EventPeerJoined},
		{"viewer joins", []Peer{o}, []Peer{o, v}, EventPeerJoined},
		{"viewer leaves", []Peer{o, v}, []Peer{o}, EventPeerLeft},
		{"handover", []Peer{o, v}, []Peer{oV, vC}, EventControlChanged},
		{"release", []Peer{o, v}, []Peer{oV, v}, EventControlChanged},
		{"same", []Peer{o, v}, []Peer{o, v}, ""},
	} {
		if got := peersChange(c.before, c.after); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
	if got := eventType(&Session{Peers: []Peer{o}}, &Session{Peers: []Peer{o, v}}); got != EventPeerJoined {
		t.Errorf("eventType of a join: %s", got)
	}
	if got := eventType(&Session{}, &Session{Peers: []Peer{o}, ClientConnected: true}); got != EventClientConnected {
		t.Errorf("eventType of the first connection with its peer: %s", got)
	}
}

func TestConnGrant(t *testing.T) {
	for grant, want := range map[string]string{RoleOwner: RoleOwner, RoleController: RoleController, RoleViewer: RoleViewer} {
		if got := ConnGrant(ConnPrefix(grant) + "abc"); got != want {
			t.Errorf("ConnGrant of a %s id: %s", grant, got)
		}
	}
	if got := ConnGrant("0123abc"); got != RoleOwner {
		t.Errorf("an id without a grant: %s", got)
	}
}
