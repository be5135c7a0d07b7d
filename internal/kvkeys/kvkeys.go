package kvkeys

import (
	"context"
	"fmt"
	"sort"
	"strings"

	njs "github.com/nats-io/nats.go/jetstream"
)

// List returns the keys of kv matching filter (a key pattern: "*" for
// every key of one token, ">" for all), sorted. A key whose last entry is
// a delete or purge marker is listed; kv.Get reports it absent.
func List(ctx context.Context, js njs.JetStream, kv njs.KeyValue, filter string) ([]string, error) {
	bucket := kv.Bucket()
	stream, err := js.Stream(ctx, "KV_"+bucket)
	if err != nil {
		return nil, fmt.Errorf("kvkeys: bucket %s: %w", bucket, err)
	}
	prefix := "$KV." + bucket + "."
	info, err := stream.Info(ctx, njs.WithSubjectFilter(prefix+filter))
	if err != nil {
		return nil, fmt.Errorf("kvkeys: bucket %s: %w", bucket, err)
	}
	keys := make([]string, 0, len(info.State.Subjects))
	for subject := range info.State.Subjects {
		keys = append(keys, strings.TrimPrefix(subject, prefix))
	}
	sort.Strings(keys)
	return keys, nil
}
