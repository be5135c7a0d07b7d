package natsurl

import "testing"

func TestParse(t *testing.T) {
	urls, errs := Parse(" nats://u:p@a:4222, b:4223,,tls://c ,nats://%zz")
	if len(urls) != 4 || len(errs) != 4 {
		t.Fatalf("%v %v", urls, errs)
	}
	if urls[0].User.Username() != "u" || urls[1].String() != "nats://b:4223" || urls[2].Scheme != "tls" {
		t.Errorf("%v", urls)
	}
	if errs[3] == nil || urls[3] != nil || errs[0] != nil {
		t.Errorf("errors %v", errs)
	}
}
