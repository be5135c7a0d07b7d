// Package subjects is the one place NATS subject names, stream names and KV
// bucket names are built and parsed. Every other package asks this one for a
// name instead of formatting strings, so a rename happens here and nowhere
// else. It must not import any NATS client code: names only.
package subjects
