package main

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/streamstack/streamstack/internal/flagenv"
	"github.com/streamstack/streamstack/internal/natsurl"
)

// The variables a NATS password or token may come from instead of a file:
// never flags, which ps shows every local user. Read once, then removed
// from this process's environment, so that no child inherits them.
const (
	envNATSPassword = "STREAMSTACK_NATS_PASSWORD"
	envNATSToken    = "STREAMSTACK_NATS_TOKEN"
)

// defaultStartTimeout is how long gateway, agent and serve (with
// --nats-url) wait for an external NATS at start: room for a cluster's
// nodes to come up and elect, well under what an orchestrator allows.
const defaultStartTimeout = 2 * time.Minute

// natsClientFlags are how gateway, agent and serve (with --nats-url) reach
// an external NATS: its credentials, kept out of --nats-url, and how long
// to wait for it at start.
type natsClientFlags struct {
	creds        string
	user         string
	passwordFile string
	tokenFile    string
	startTimeout time.Duration
}

func addNATSClientFlags(fs *flag.FlagSet) *natsClientFlags {
	f := &natsClientFlags{startTimeout: defaultStartTimeout}
	fs.StringVar(&f.creds, "nats-creds", "", "NATS credentials file (.creds: a user JWT and its NKey seed, as nsc makes them) for --nats-url; refused when group or others may read or change it; the agent's streamers read it too")
	fs.StringVar(&f.user, "nats-user", "", "NATS user for --nats-url; its password from --nats-password-file or "+envNATSPassword+" (never a flag: ps shows flags)")
	fs.StringVar(&f.passwordFile, "nats-password-file", "", "file holding the password of --nats-user (its trailing newline dropped); refused when group or others may read or change it")
	fs.StringVar(&f.tokenFile, "nats-token-file", "", "file holding a NATS token for --nats-url (its trailing newline dropped), instead of "+envNATSToken+"; refused when group or others may read or change it")
	fs.DurationVar(&f.startTimeout, "start-timeout", f.startTimeout, "how long a start waits for an external NATS (--nats-url): while no node answers, or a cluster elects its leaders, it tries again with backoff and logs what it waits for; after it the process exits with the last error")
	return f
}

// natsAuth is the credentials natsClientFlags read: as nats.Options for
// this process's connections, and as what its streamers get.
type natsAuth struct {
	opts []nats.Option
	// user and secret (password, or a token when user is empty) go into
	// the URL the agent hands its streamers on a pipe.
	user, secret string
	// creds is the .creds file, passed to streamers by path.
	creds string
	// what says which kind, for a log line: never the secret.
	what string
}

// read reads the credentials: at most one kind, a password or token from
// its file or variable, never both. natsURL must not carry credentials of
// its own beside them.
func (f *natsClientFlags) read(natsURL string, getenv func(string) string) (natsAuth, error) {
	var a natsAuth
	if f.startTimeout <= 0 {
		return a, fmt.Errorf("--start-timeout must be positive, got %s", f.startTimeout)
	}
	password, err := secretFromFileOrEnv("--nats-password-file", f.passwordFile, envNATSPassword, getenv)
	if err != nil {
		return a, err
	}
	token, err := secretFromFileOrEnv("--nats-token-file", f.tokenFile, envNATSToken, getenv)
	if err != nil {
		return a, err
	}
	kinds := 0
	for _, set := range []bool{f.creds != "", f.user != "" || password != "", token != ""} {
		if set {
			kinds++
		}
	}
	switch {
	case kinds > 1:
		return a, errors.New("give one kind of NATS credentials: --nats-creds, --nats-user with a password, or a token")
	case kinds == 1 && natsURL == "":
		return a, errors.New("NATS credentials are for an external NATS: set --nats-url (the embedded server makes its own)")
	case kinds == 1 && urlHasUserinfo(natsURL):
		return a, errors.New("--nats-url carries credentials and so does --nats-creds, --nats-user or a token: give them once")
	case f.user != "" && password == "":
		return a, fmt.Errorf("--nats-user needs a password: --nats-password-file or %s", envNATSPassword)
	case f.user == "" && password != "":
		return a, errors.New("a NATS password needs --nats-user")
	}
	switch {
	case f.creds != "":
		if err := checkSecretFileMode(f.creds); err != nil {
			return a, fmt.Errorf("--nats-creds: %w", err)
		}
		a.creds, a.what = f.creds, "creds file"
		a.opts = []nats.Option{nats.UserCredentials(f.creds)}
	case f.user != "":
		a.user, a.secret, a.what = f.user, password, "user "+f.user
		a.opts = []nats.Option{nats.UserInfo(f.user, password)}
	case token != "":
		a.secret, a.what = token, "token"
		a.opts = []nats.Option{nats.Token(token)}
	}
	return a, nil
}

// secretFromFileOrEnv reads a secret from file, or from the variable env
// (then removed from the environment), refusing both at once.
func secretFromFileOrEnv(flagName, file, env string, getenv func(string) string) (string, error) {
	fromEnv := getenv(env)
	if fromEnv != "" {
		// Children (streamers, apps) inherit the environment: a secret
		// read is gone from it.
		_ = os.Unsetenv(env)
	}
	if file == "" {
		return fromEnv, nil
	}
	if fromEnv != "" {
		return "", fmt.Errorf("both %s and %s are set: give one", flagName, env)
	}
	s, err := readSecretFile(file)
	if err != nil {
		return "", fmt.Errorf("%s: %w", flagName, err)
	}
	return s, nil
}

// checkSecretFileMode refuses a file group or others may read or change,
// as readSecretFile does, for a file another library reads.
func checkSecretFileMode(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s has mode %#o: group or others may read or change it; chmod 600 it", path, perm)
	}
	return nil
}

// urlHasUserinfo reports whether a NATS URL (or a list) names a user,
// password or token.
func urlHasUserinfo(raw string) bool {
	urls, errs := natsurl.Parse(raw)
	for i, u := range urls {
		if errs[i] == nil && u.User != nil {
			return true
		}
	}
	return false
}

// streamerURL is natsURL with a's user and password, or token, in each of
// its URLs: what the agent hands its streamers on a pipe (never in their
// argv or environment). A .creds file goes by path instead.
func (a natsAuth) streamerURL(natsURL string) string {
	if a.secret == "" {
		return natsURL
	}
	urls, errs := natsurl.Parse(natsURL)
	out := make([]string, len(urls))
	for i, u := range urls {
		if errs[i] != nil {
			return natsURL
		}
		if a.user != "" {
			u.User = url.UserPassword(a.user, a.secret)
		} else {
			u.User = url.User(a.secret)
		}
		out[i] = u.String()
	}
	return strings.Join(out, ",")
}

// describe says which kind of credentials, for a log line: never a
// secret.
func (a natsAuth) describe() string {
	if a.what == "" {
		return "none or in --nats-url"
	}
	return a.what
}

// streamerEnv is what a streamer's environment gets of a: the path of a
// .creds file (the file is the secret, not its name).
func (a natsAuth) streamerEnv() []string {
	if a.creds == "" {
		return nil
	}
	return []string{flagenv.EnvName("nats-creds") + "=" + a.creds}
}

// warnURLCredentials warns when --nats-url itself, on the command line,
// carries a password or token, which ps shows every local user.
func warnURLCredentials(fs *flag.FlagSet, args []string, natsURL string, log *slog.Logger) {
	if urlHasUserinfo(natsURL) && onCommandLine(fs, args, "nats-url") {
		log.Warn("--nats-url carries credentials, which ps shows every local user: use --nats-creds, --nats-user with --nats-password-file or " + envNATSPassword + ", or --nats-token-file")
	}
}
