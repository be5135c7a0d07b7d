package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/streamstack/streamstack/internal/flagenv"
)

func natsFlagsWith(t *testing.T, args []string, env map[string]string) (natsAuth, error) {
	t.Helper()
	fs := flag.NewFlagSet("gateway", flag.ContinueOnError)
	c, f := addCommon(fs), addNATSClientFlags(fs)
	getenv := func(k string) string { return env[k] }
	if err := flagenv.Parse(fs, args, getenv); err != nil {
		t.Fatal(err)
	}
	return f.read(c.NATSURL, getenv)
}

func secretFile(t *testing.T, content string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return path
}

// The kinds of NATS credentials: each alone, never two, a password never
// without its user nor from both a file and the environment, none beside
// credentials in the URL, and files only a private mode.
func TestNATSCredentialFlags(t *testing.T) {
	const url = "nats://127.0.0.1:4222,nats://127.0.0.1:4223"
	pw := secretFile(t, "s3cret-pass\n", 0o600)
	token := secretFile(t, "t0ken\n", 0o600)
	creds := secretFile(t, "-----BEGIN NATS USER JWT-----\n", 0o600)
	open := secretFile(t, "s3cret-pass\n", 0o644)

	a, err := natsFlagsWith(t, []string{"--nats-url", url, "--nats-user", "alice", "--nats-password-file", pw}, nil)
	if err != nil || a.user != "alice" || a.secret != "s3cret-pass" || len(a.opts) != 1 {
		t.Fatalf("user and password file: %+v %v", a, err)
	}
	if got := a.streamerURL(url); got != "nats://alice:s3cret-pass@127.0.0.1:4222,nats://alice:s3cret-pass@127.0.0.1:4223" {
		t.Fatalf("streamer URL %q", got)
	}
	if strings.Contains(a.describe(), "s3cret") {
		t.Fatalf("describe shows the password: %q", a.describe())
	}
	if a, err = natsFlagsWith(t, []string{"--nats-url", url, "--nats-user", "alice"}, map[string]string{envNATSPassword: "from-env"}); err != nil || a.secret != "from-env" {
		t.Fatalf("password from the environment: %+v %v", a, err)
	}
	if a, err = natsFlagsWith(t, []string{"--nats-url", url, "--nats-token-file", token}, nil); err != nil || a.user != "" || a.secret != "t0ken" {
		t.Fatalf("token file: %+v %v", a, err)
	} else if got := a.streamerURL("nats://127.0.0.1:4222"); got != "nats://t0ken@127.0.0.1:4222" {
		t.Fatalf("streamer URL with a token %q", got)
	}
	if a, err = natsFlagsWith(t, []string{"--nats-url", url}, map[string]string{envNATSToken: "env-token"}); err != nil || a.secret != "env-token" {
		t.Fatalf("token from the environment: %+v %v", a, err)
	}
	if a, err = natsFlagsWith(t, []string{"--nats-url", url, "--nats-creds", creds}, nil); err != nil || a.creds != creds || a.secret != "" {
		t.Fatalf("creds file: %+v %v", a, err)
	} else if env := a.streamerEnv(); len(env) != 1 || env[0] != "STREAMSTACK_NATS_CREDS="+creds {
		t.Fatalf("streamer env %q", env)
	}
	if a, err = natsFlagsWith(t, []string{"--nats-url", url}, nil); err != nil || a.opts != nil || a.streamerURL(url) != url {
		t.Fatalf("no credentials: %+v %v", a, err)
	}

	for name, c := range map[string]struct {
		args []string
		env  map[string]string
		want string
	}{
		"two kinds":             {[]string{"--nats-url", url, "--nats-creds", creds, "--nats-token-file", token}, nil, "one kind"},
		"user and token":        {[]string{"--nats-url", url, "--nats-user", "alice", "--nats-password-file", pw}, map[string]string{envNATSToken: "x"}, "one kind"},
		"user without password": {[]string{"--nats-url", url, "--nats-user", "alice"}, nil, "needs a password"},
		"password without user": {[]string{"--nats-url", url, "--nats-password-file", pw}, nil, "needs --nats-user"},
		"file and environment":  {[]string{"--nats-url", url, "--nats-user", "a", "--nats-password-file", pw}, map[string]string{envNATSPassword: "x"}, "both"},
		"embedded":              {[]string{"--nats-token-file", token}, nil, "external NATS"},
		"URL credentials too":   {[]string{"--nats-url", "nats://bob:pw@127.0.0.1:4222", "--nats-token-file", token}, nil, "give them once"},
		"readable file":         {[]string{"--nats-url", url, "--nats-user", "a", "--nats-password-file", open}, nil, "chmod 600"},
		"readable creds":        {[]string{"--nats-url", url, "--nats-creds", open}, nil, "chmod 600"},
		"no start timeout":      {[]string{"--nats-url", url, "--start-timeout", "0s"}, nil, "--start-timeout"},
	} {
		if _, err := natsFlagsWith(t, c.args, c.env); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", name, err, c.want)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the password: %v", name, err)
		}
	}
}
