// Package version holds the release version, set at build time with
// -ldflags "-X github.com/streamstack/streamstack/internal/version.Version=…".
package version

// Version of streamstack; semver, as NATS micro requires.
var Version = "0.1.0-dev"
