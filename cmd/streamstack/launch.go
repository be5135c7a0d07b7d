package main

import (
	"errors"
	"flag"
	"io"
	"os"
	"strings"

	"github.com/streamstack/streamstack/internal/flagenv"
	"github.com/streamstack/streamstack/streamer"
)

// streamerConfigFromEnv reads a streamer's configuration the way a
// `streamstack streamer` child reads it: its own flag set over this
// process's environment and env, what the agent hands a child (its
// settings, the session, its runtime directory). An in-process streamer
// gets it through this one reading, so the two cannot drift apart.
func streamerConfigFromEnv(env []string) (streamer.Config, error) {
	f, err := streamerFlagsFromEnv(env)
	if err != nil {
		return streamer.Config{}, err
	}
	if f.iceTCP {
		return streamer.Config{}, errors.New("--ice-tcp needs streamer processes (one TCP port each); drop --streamer-in-process")
	}
	return f.cfg, nil
}

// streamerFlagsFromEnv reads all of a streamer's settings so, for a
// session on a streamer host: its own flag set over this process's
// environment and env.
func streamerFlagsFromEnv(env []string) (*streamerFlags, error) {
	fs := flag.NewFlagSet("streamer", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	f := newStreamerFlags(fs)
	given := map[string]string{}
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			given[k] = v
		}
	}
	lookup := func(k string) string {
		if v, ok := given[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	if err := flagenv.Parse(fs, nil, lookup); err != nil {
		return nil, err
	}
	return f, nil
}
