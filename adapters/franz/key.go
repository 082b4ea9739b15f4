package idemqfranz

import (
	"context"
	"crypto/sha256"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/idemq/idemq/dedupe"
)

// HandleFunc processes one record inside the guard. It calls end(value)
// once every step has succeeded, before it returns nil: value is what
// duplicates of the key receive. ctx is cancelled when the record's outcome
// can no longer be decided here; context.Cause says why (ErrRevoked,
// ErrLost, ErrDrainTimeout, dedupe.ErrLeaseLost, dedupe.ErrStoreClosed).
type HandleFunc[V any] func(ctx context.Context, r *kgo.Record, end dedupe.End[V]) error

// DuplicateFunc is called for a record whose key another run already
// committed, with the winner's value, instead of the handler. An error is
// retried like a handler error.
type DuplicateFunc[V any] func(ctx context.Context, r *kgo.Record, winner V) error

// DefaultKeyHeader is the header HeaderKey reads when Config.KeyFunc is nil.
const DefaultKeyHeader = "Idempotency-Key"

// KeyFunc returns a record's idempotency key. An error, an empty key or one
// longer than dedupe.MaxKeyLen makes the key invalid, and Config.InvalidKey
// decides what happens to the record.
type KeyFunc func(r *kgo.Record) (string, error)

// HeaderKey reads the idempotency key from the header with exactly this
// name (Kafka header names are case-sensitive); when several headers share
// the name, the last one counts. A missing header is ErrNoKey.
func HeaderKey(name string) KeyFunc {
	return func(r *kgo.Record) (string, error) {
		for i := len(r.Headers) - 1; i >= 0; i-- {
			if r.Headers[i].Key == name {
				return string(r.Headers[i].Value), nil
			}
		}
		return "", fmt.Errorf("%w: no %q header", ErrNoKey, name)
	}
}

// MessageKey uses the Kafka record key as the idempotency key.
func MessageKey() KeyFunc {
	return func(r *kgo.Record) (string, error) {
		if len(r.Key) == 0 {
			return "", fmt.Errorf("%w: empty record key", ErrNoKey)
		}
		return string(r.Key), nil
	}
}

// FingerprintFunc returns a fingerprint of a record's payload; see
// Config.FingerprintFunc.
type FingerprintFunc func(r *kgo.Record) []byte

// PayloadFingerprint is the SHA-256 of the record's value.
func PayloadFingerprint(r *kgo.Record) []byte {
	sum := sha256.Sum256(r.Value)
	return sum[:]
}
