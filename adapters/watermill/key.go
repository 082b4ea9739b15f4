package idemqwatermill

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"strconv"

	wmessage "github.com/ThreeDotsLabs/watermill/message"
)

// KeyFunc derives a message's idempotency key. It returns an error wrapping
// ErrNoKey when the message has none. Watermill's
// middleware.MessageHasher has the same signature, so its hashers convert:
// KeyFunc(middleware.NewMessageHasherSHA256(limit)).
type KeyFunc func(msg *wmessage.Message) (string, error)

// MetadataKey reads the key from a metadata field. An absent or empty field
// is ErrNoKey.
func MetadataKey(field string) KeyFunc {
	return func(msg *wmessage.Message) (string, error) {
		if k := msg.Metadata.Get(field); k != "" {
			return k, nil
		}
		return "", fmt.Errorf("%w: metadata field %q is empty", ErrNoKey, field)
	}
}

// PayloadHash derives the key from a hash of the whole payload, hex-encoded:
// messages with equal payloads are duplicates. newHash is sha256.New when
// nil. Watermill's own hashers (Adler-32 or SHA-256 of the first bytes)
// convert to a KeyFunc too, but a checksum or a prefix makes different
// messages collide, and a collision drops a message: prefer a full SHA-256.
// An empty payload is ErrNoKey, so that empty messages are not all
// taken for one another.
func PayloadHash(newHash func() hash.Hash) KeyFunc {
	if newHash == nil {
		newHash = sha256.New
	}
	return func(msg *wmessage.Message) (string, error) {
		if len(msg.Payload) == 0 {
			return "", fmt.Errorf("%w: the payload is empty", ErrNoKey)
		}
		h := newHash()
		h.Write(msg.Payload)
		return hex.EncodeToString(h.Sum(nil)), nil
	}
}

// PayloadFingerprint is the SHA-256 of the message's payload, for
// Config.FingerprintFunc.
func PayloadFingerprint(msg *wmessage.Message) []byte {
	sum := sha256.Sum256(msg.Payload)
	return sum[:]
}

// Key kinds keep the keys of handlers and of publishers apart in one store.
const (
	handlerKind = "handler"
	publishKind = "publish"
)

// storeKey is the key given to the store for key in scope. The scope's
// length comes first, so two (scope, key) pairs never share a store key:
// "handler:15:process-orders:order-42".
func storeKey(kind, scope, key string) string {
	return kind + ":" + strconv.Itoa(len(scope)) + ":" + scope + ":" + key
}
