package idemqkafka

import (
	"crypto/sha256"
	"fmt"

	kafkago "github.com/segmentio/kafka-go"
)

// DefaultKeyHeader is the header HeaderKey reads when Config.KeyFunc is nil.
const DefaultKeyHeader = "Idempotency-Key"

// KeyFunc returns a message's idempotency key. An error, an empty key or
// one longer than dedupe.MaxKeyLen makes the key invalid, and
// Config.InvalidKey decides what happens to the message.
type KeyFunc func(m kafkago.Message) (string, error)

// HeaderKey reads the idempotency key from the header with exactly this
// name (Kafka header names are case-sensitive); when several headers share
// the name, the last one counts. A missing header is ErrNoKey.
func HeaderKey(name string) KeyFunc {
	return func(m kafkago.Message) (string, error) {
		for i := len(m.Headers) - 1; i >= 0; i-- {
			if m.Headers[i].Key == name {
				return string(m.Headers[i].Value), nil
			}
		}
		return "", fmt.Errorf("%w: no %q header", ErrNoKey, name)
	}
}

// FingerprintFunc returns a fingerprint of a message's payload; see
// Config.FingerprintFunc.
type FingerprintFunc func(m kafkago.Message) []byte

// PayloadFingerprint is the SHA-256 of the message's value.
func PayloadFingerprint(m kafkago.Message) []byte {
	sum := sha256.Sum256(m.Value)
	return sum[:]
}

// MessageKey uses the Kafka message key as the idempotency key.
func MessageKey() KeyFunc {
	return func(m kafkago.Message) (string, error) {
		if len(m.Key) == 0 {
			return "", fmt.Errorf("%w: empty message key", ErrNoKey)
		}
		return string(m.Key), nil
	}
}
