package flagenv

import (
	"flag"
	"strings"
	"testing"
)

func TestFlagBeatsEnvBeatsDefault(t *testing.T) {
	env := map[string]string{"STREAMSTACK_HTTP_ADDR": ":9000", "STREAMSTACK_REGION": "eu"}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	addr := fs.String("http-addr", ":8080", "")
	region := fs.String("region", "local", "")
	other := fs.String("other", "d", "")
	if err := Parse(fs, []string{"--region", "us"}, func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if *addr != ":9000" || *region != "us" || *other != "d" {
		t.Fatalf("addr %q region %q other %q", *addr, *region, *other)
	}
}

func TestBadEnvValueNamesVariable(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	fs.Int("max-sessions", 1, "")
	err := Parse(fs, nil, func(string) string { return "many" })
	if err == nil || !strings.Contains(err.Error(), "STREAMSTACK_MAX_SESSIONS") {
		t.Fatalf("err = %v", err)
	}
}
