package natscluster

import (
	"context"
	"testing"
)

// StartTest starts a cluster for t, closed at its cleanup; it fails t when
// the cluster does not come up.
func StartTest(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	c, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}
