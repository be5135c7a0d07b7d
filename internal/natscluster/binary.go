package natscluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/nats-io/nats-server/v2/server"
)

// natsServerPkg is the main package of the pinned module; importing its
// server package keeps it in go.mod and names the version built.
const natsServerPkg = "github.com/nats-io/nats-server/v2"

// Binary returns the path of a nats-server binary of the version go.mod
// pins, building it into the user's cache directory the first time (go
// build from the module cache, so no network is needed once the module is
// downloaded). It must run inside this module, as tests do. Builds racing
// from parallel test processes each write a file of their own and rename
// it, so none sees a half-written binary.
func Binary(ctx context.Context) (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "streamstack")
	path := filepath.Join(dir, "nats-server-v"+server.VERSION)
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("natscluster: %w", err)
	}
	tmp, err := os.CreateTemp(dir, "nats-server-build-")
	if err != nil {
		return "", fmt.Errorf("natscluster: %w", err)
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	build := exec.CommandContext(ctx, "go", "build", "-o", tmp.Name(), natsServerPkg)
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("natscluster: go build %s: %w\n%s", natsServerPkg, err, out)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("natscluster: %w", err)
	}
	return path, nil
}
