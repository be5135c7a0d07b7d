package turn

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"

	njs "github.com/nats-io/nats.go/jetstream"

	"github.com/streamstack/streamstack/subjects"
)

// SecretKey is the key of the cluster's TURN shared secret in the tokens
// bucket, beside the session signing key.
const SecretKey = subjects.KeyTURNSecret

// MinSecretLen is the shortest secret an operator may choose.
const MinSecretLen = 16

// LoadSecret returns the cluster's TURN shared secret from kv (the tokens
// bucket), so that every gateway and streamer of a cluster signs
// credentials the TURN server accepts. A chosen secret (--turn-secret, the
// static-auth-secret of an external coturn) is stored there for the others;
// without one, the first component to start generates it and every later
// one reads it (only one Create wins).
func LoadSecret(ctx context.Context, kv njs.KeyValue, chosen string) (string, error) {
	if chosen != "" {
		if len(chosen) < MinSecretLen {
			return "", fmt.Errorf("%w: a chosen secret must be at least %d characters", ErrSecret, MinSecretLen)
		}
		if e, err := kv.Get(ctx, SecretKey); err == nil && string(e.Value()) == chosen {
			return chosen, nil
		}
		if _, err := kv.Put(ctx, SecretKey, []byte(chosen)); err != nil {
			return "", fmt.Errorf("%w: store: %w", ErrSecret, err)
		}
		return chosen, nil
	}
	// One round trip on the streamers' start path: read first.
	e, err := kv.Get(ctx, SecretKey)
	if err == nil {
		return string(e.Value()), nil
	}
	if !errors.Is(err, njs.ErrKeyNotFound) {
		return "", fmt.Errorf("%w: load: %w", ErrSecret, err)
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	if _, err := kv.Create(ctx, SecretKey, []byte(base64.RawURLEncoding.EncodeToString(b))); err != nil && !errors.Is(err, njs.ErrKeyExists) {
		return "", fmt.Errorf("%w: create: %w", ErrSecret, err)
	}
	if e, err = kv.Get(ctx, SecretKey); err != nil {
		return "", fmt.Errorf("%w: load: %w", ErrSecret, err)
	}
	return string(e.Value()), nil
}
