package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/streamstack/streamstack/agent"
	"github.com/streamstack/streamstack/gateway"
	"github.com/streamstack/streamstack/internal/localstack"
	"github.com/streamstack/streamstack/internal/natscluster"
	"github.com/streamstack/streamstack/jetstream"
)

// runDevCluster runs a fleet on one machine for people to try failures on:
// a real 3-node nats-server cluster (the version go.mod pins, built into
// the user's cache directory, so it runs inside this module's checkout:
// `go tool task cluster`), and per gateway address a gateway and an agent
// on a node of their own, every stream and bucket at --replicas. Kill a
// node, a gateway or an agent and watch the rest carry on.
func runDevCluster(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("dev-cluster", flag.ContinueOnError)
	c := addCommon(fs)
	addrs := fs.String("http-addrs", "127.0.0.1:8080,127.0.0.1:8081", "where the gateways listen, comma-separated: one gateway and one agent per address")
	dir := fs.String("dir", "", "where the NATS nodes and the agents keep their files; empty: a temporary directory, removed at exit")
	replicas := fs.Int("replicas", 3, "replicas of every stream and bucket")
	if err := parse(fs, args); err != nil {
		return err
	}
	if c.NATSURL != "" {
		return errors.New("dev-cluster runs its own NATS cluster: drop --nats-url")
	}
	log := c.logger()
	if *dir == "" {
		tmp, err := os.MkdirTemp("", "streamstack-dev-cluster-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		*dir = tmp
	}
	cluster, err := natscluster.Start(ctx, natscluster.Options{Dir: filepath.Join(*dir, "nats")})
	if err != nil {
		return err
	}
	defer cluster.Close()
	for _, n := range cluster.Nodes() {
		log.Info("NATS node", "name", n.Name, "url", n.URL, "pid", n.PID())
	}
	limits := jetstream.DefaultLimits()
	limits.Replicas = *replicas
	var stacks []*localstack.Stack
	defer func() {
		for _, st := range stacks {
			_ = st.Close()
		}
	}()
	for i, addr := range strings.Split(*addrs, ",") {
		node := cluster.Node(i % len(cluster.Nodes()))
		gcfg, acfg := gateway.DefaultConfig(), agent.DefaultConfig()
		gcfg.HTTPAddr = strings.TrimSpace(addr)
		acfg.ID = fmt.Sprintf("dev-agent-%d", i+1)
		acfg.StateDir = filepath.Join(*dir, acfg.ID)
		st, err := localstack.Start(ctx, localstack.Options{
			NATSURL: node.URL, Gateway: gcfg, Agent: acfg, Limits: limits,
			Source: fmt.Sprintf("dev-cluster/%d", i+1), Log: log.With("fleet", i+1),
		})
		if err != nil {
			return err
		}
		stacks = append(stacks, st)
		log.Info("gateway and agent", "url", st.URL, "agent", acfg.ID, "nats", node.Name)
	}
	if len(stacks) == 0 {
		return errors.New("--http-addrs names no address")
	}
	token, _, err := stacks[0].Tokens.Create(ctx, "dev-cluster")
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "\nPoint a browser at any of:\n\n")
	for _, st := range stacks {
		fmt.Fprintf(os.Stderr, "    %s\n", st.URL)
	}
	fmt.Fprintf(os.Stderr, "\nwith this admin API token (made for this run):\n\n    %s\n\nNATS: %s\n\n", token, cluster.URL())
	<-ctx.Done()
	log.Info("dev-cluster stopping")
	return nil
}
