package natscluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// ErrNotReady: the cluster did not elect a JetStream meta leader that every
// running node knows of within Options.ReadyTimeout.
var ErrNotReady = errors.New("natscluster: cluster not ready")

// Options configure a cluster.
type Options struct {
	// Nodes is how many nats-server processes; 3 when 0.
	Nodes int
	// Dir holds every node's JetStream files, configuration and log; empty
	// makes a temporary one that Close removes.
	Dir string
	// ReadyTimeout bounds each wait for the cluster (Start's, Restart's);
	// 30 s when 0, room for an election on a busy machine.
	ReadyTimeout time.Duration
	// Sync is each node's JetStream sync setting (nats-server's "sync":
	// "always" or an interval); empty keeps nats-server's default. A
	// replicated stream is durable through its copies anyway.
	Sync string
}

// Cluster is a running nats-server cluster on loopback.
type Cluster struct {
	opts   Options
	bin    string
	dir    string
	ownDir bool
	nodes  []*Node
}

// Start builds (or finds) the nats-server binary, starts Options.Nodes
// processes clustered on free loopback ports, and waits until JetStream has
// a meta leader. On an error nothing it started is left running.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Nodes <= 0 {
		opts.Nodes = 3
	}
	if opts.ReadyTimeout <= 0 {
		opts.ReadyTimeout = 30 * time.Second
	}
	bin, err := Binary(ctx)
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, bin: bin, dir: opts.Dir}
	if c.dir == "" {
		if c.dir, err = os.MkdirTemp("", "natscluster-"); err != nil {
			return nil, fmt.Errorf("natscluster: %w", err)
		}
		c.ownDir = true
	} else if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, fmt.Errorf("natscluster: %w", err)
	}
	ports, err := freePorts(2 * opts.Nodes)
	if err != nil {
		c.Close()
		return nil, err
	}
	var routes []string
	for i := range opts.Nodes {
		routes = append(routes, "nats-route://127.0.0.1:"+strconv.Itoa(ports[2*i+1]))
	}
	for i := range opts.Nodes {
		n := &Node{Name: fmt.Sprintf("n%d", i+1), URL: "nats://127.0.0.1:" + strconv.Itoa(ports[2*i])}
		n.conf = filepath.Join(c.dir, n.Name+".conf")
		n.log = filepath.Join(c.dir, n.Name+".log")
		if err := os.WriteFile(n.conf, []byte(nodeConfig(n.Name, ports[2*i], ports[2*i+1], filepath.Join(c.dir, n.Name), routes, opts.Sync)), 0o600); err != nil {
			c.Close()
			return nil, fmt.Errorf("natscluster: %w", err)
		}
		c.nodes = append(c.nodes, n)
	}
	for _, n := range c.nodes {
		if err := n.start(c.bin); err != nil {
			c.Close()
			return nil, err
		}
	}
	if err := c.WaitReady(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// nodeConfig is one node's nats-server configuration.
func nodeConfig(name string, port, clusterPort int, storeDir string, routes []string, sync string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "server_name: %q\nlisten: \"127.0.0.1:%d\"\n", name, port)
	// Budgets well above what the stack's streams reserve on one node
	// (their MaxBytes, DefaultLimits: about 72 MiB of memory, 2.1 GiB of
	// files), and well below a test machine's.
	fmt.Fprintf(&b, "jetstream {\n  store_dir: %q\n  max_memory_store: 1GB\n  max_file_store: 8GB\n", storeDir)
	if sync != "" {
		fmt.Fprintf(&b, "  sync: %q\n", sync)
	}
	b.WriteString("}\n")
	fmt.Fprintf(&b, "cluster {\n  name: \"streamstack-test\"\n  listen: \"127.0.0.1:%d\"\n  routes: [\n", clusterPort)
	for _, r := range routes {
		fmt.Fprintf(&b, "    %q\n", r)
	}
	b.WriteString("  ]\n}\n")
	return b.String()
}

// freePorts reserves n distinct free loopback ports and releases them for
// the nodes to take. Another process could take one in between; on a test
// machine that is rare, and Start then fails clearly.
func freePorts(n int) ([]int, error) {
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			ln.Close()
		}
	}()
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("natscluster: free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Nodes are the cluster's nodes, in order n1, n2, ...
func (c *Cluster) Nodes() []*Node { return c.nodes }

// Node is the i-th node (0-based).
func (c *Cluster) Node(i int) *Node { return c.nodes[i] }

// NodeNamed is the node whose server name is name (a stream's leader, in
// its cluster info), or nil.
func (c *Cluster) NodeNamed(name string) *Node {
	for _, n := range c.nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// URL lists every node's client URL, comma-separated, as nats.Connect
// takes them: a client fails over between them.
func (c *Cluster) URL() string {
	var urls []string
	for _, n := range c.nodes {
		urls = append(urls, n.URL)
	}
	return strings.Join(urls, ",")
}

// Dir holds the nodes' files and logs.
func (c *Cluster) Dir() string { return c.dir }

// Kill sends n SIGKILL, as a crash would, and waits until it has exited.
func (c *Cluster) Kill(n *Node) error { return n.kill() }

// Restart starts a killed node again on its files and waits until the
// cluster is ready again.
func (c *Cluster) Restart(ctx context.Context, n *Node) error {
	if n.running() {
		return fmt.Errorf("natscluster: %s is running", n.Name)
	}
	if err := n.start(c.bin); err != nil {
		return err
	}
	return c.WaitReady(ctx)
}

// Close kills every node and removes the directory Start made.
func (c *Cluster) Close() {
	for _, n := range c.nodes {
		_ = n.kill()
	}
	if c.ownDir {
		os.RemoveAll(c.dir)
	}
}
