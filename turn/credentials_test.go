package turn

import (
	"errors"
	"testing"
	"time"
)

const testSecret = "0123456789abcdef-secret"

func TestCredentialMatchesOpenSSL(t *testing.T) {
	// echo -n "1700000000:sess1" | openssl dgst -sha1 -hmac "$secret" -binary | base64
	now := time.Unix(1700000000, 0).Add(-time.Hour)
	c := NewCredential(testSecret, "sess1", time.Hour, now)
	if c.Username != "1700000000:sess1" || c.Password != "TTgxZWfWSO4DUwKiPsQhXZtExvg=" {
		t.Fatalf("credential %+v", c)
	}
	if !c.Expires.Equal(time.Unix(1700000000, 0)) {
		t.Fatalf("expires %s", c.Expires)
	}
}

func TestCheckCredential(t *testing.T) {
	now := time.Unix(1700000000, 0)
	good := NewCredential(testSecret, "s", time.Minute, now)
	if err := CheckCredential(testSecret, good.Username, good.Password, now); err != nil {
		t.Fatalf("good credential: %v", err)
	}
	for name, tc := range map[string]struct {
		user, pass string
		at         time.Time
	}{
		"expired":       {good.Username, good.Password, now.Add(time.Minute)},
		"forged":        {good.Username, NewCredential("another-secret-0123", "s", time.Minute, now).Password, now},
		"other user":    {"1700000060:other", good.Password, now},
		"no expiry":     {"s", good.Password, now},
		"garbage":       {"x:y", good.Password, now},
		"negative time": {"-5:s", good.Password, now},
	} {
		if err := CheckCredential(testSecret, tc.user, tc.pass, tc.at); !errors.Is(err, ErrCredential) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestIssuer(t *testing.T) {
	now := time.Unix(1700000000, 0)
	i := &Issuer{URLs: []string{"stun:192.0.2.1:3478", "turn:192.0.2.1:3478?transport=udp"}, Secret: testSecret,
		TTL: time.Hour, Now: func() time.Time { return now }}
	got := i.ICEServers("sess1")
	if len(got) != 1 || len(got[0].URLs) != 2 || got[0].Username != "1700003600:sess1" {
		t.Fatalf("ICEServers %+v", got)
	}
	if err := CheckCredential(testSecret, got[0].Username, got[0].Password, now); err != nil {
		t.Fatal(err)
	}
	stunOnly := &Issuer{URLs: []string{"stun:192.0.2.1:3478"}, Secret: testSecret, TTL: time.Hour}
	if s := stunOnly.ICEServers("x"); len(s) != 1 || s[0].Username != "" || s[0].Password != "" {
		t.Fatalf("STUN only %+v", s)
	}
	if s := (&Issuer{}).ICEServers("x"); s != nil {
		t.Fatalf("no URLs %+v", s)
	}
	if err := CheckURLs([]string{"turn:h:1?transport=tcp", "stun:h"}); err != nil {
		t.Fatal(err)
	}
	if err := CheckURLs([]string{"http://h"}); !errors.Is(err, ErrConfig) {
		t.Fatalf("bad URL: %v", err)
	}
}
