// Command streamstack is the one binary of the stack: serve runs everything
// on one host; gateway, agent and streamer run one component each; token,
// probe and bench are tools for operators.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string) error
}

func commands() []command {
	return []command{
		{"serve", "run NATS, the gateway and an agent on this host (what `go tool task run` starts)", runServe},
		{"gateway", "run the HTTP API and signaling bridge against an external NATS", runGateway},
		{"agent", "run an agent that places sessions and launches streamers against an external NATS", runAgent},
		{"encoders", "probe this host's video encoders (test encode, calibration) and print each backend's codec, units, or why it is absent", runEncoders},
		{"streamer", "stream one session (started by an agent)", runStreamer},
		{"streamer-host", "stream up to --sessions sessions the agent hands over (started by an agent)", runStreamerHost},
		{"token", "manage API tokens: token create NAME | token list | token revoke ID", runToken},
		{"events", "tail lifecycle events, filtered by session, type or app (--json, --durable NAME, --from-start)", runEvents},
		{"probe", "create or join a session like a client would and report what arrives", runProbe},
		{"bench", "measure time to first frame, relay round trip and session creation; --density: sessions per host against ffmpeg", runBench},
		{"settings", "print every setting as a Markdown table", runSettings},
		{"dev-cluster", "run a 3-node NATS cluster (built from the pinned module), two gateways and two agents on this machine (what `go tool task cluster` starts)", runDevCluster},
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: streamstack COMMAND [flags]\n\ncommands:")
	for _, c := range commands() {
		fmt.Fprintf(os.Stderr, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(os.Stderr, "\nEvery flag --foo-bar can also be set as STREAMSTACK_FOO_BAR.")
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	name := os.Args[1]
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := c.run(ctx, os.Args[2:])
		stop()
		if err != nil && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintf(os.Stderr, "streamstack %s: %v\n", name, err)
			os.Exit(1)
		}
		return
	}
	if name != "-h" && name != "--help" && name != "help" {
		fmt.Fprintf(os.Stderr, "unknown command %q\n\n", name)
	}
	usage()
	os.Exit(2)
}
