package idemqwatermill_test

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/idemq/idemq/consumer"
	"hash"
	"hash/adler32"
	"testing"

	wmessage "github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/dedupe"
)

func TestKeyFuncs(t *testing.T) {
	t.Parallel()
	sum := sha256.Sum256([]byte("payload"))
	adler := func() hash.Hash { return adler32.New() }
	withMeta := newMsg("order-1", "payload")
	empty := newMsg("", "")
	tests := []struct {
		name    string
		key     idemqwatermill.KeyFunc
		msg     *wmessage.Message
		want    string
		wantErr error
	}{
		{"MetadataKey", idemqwatermill.MetadataKey(keyField), withMeta, "order-1", nil},
		{"MetadataKeyAbsent", idemqwatermill.MetadataKey("Other"), withMeta, "", idemqwatermill.ErrNoKey},
		{"PayloadHashDefaultsToSHA256", idemqwatermill.PayloadHash(nil), withMeta, hex.EncodeToString(sum[:]), nil},
		{"PayloadHashSHA256", idemqwatermill.PayloadHash(sha256.New), withMeta, hex.EncodeToString(sum[:]), nil},
		{"PayloadHashAdler32", idemqwatermill.PayloadHash(adler), withMeta, fmt.Sprintf("%08x", adler32.Checksum([]byte("payload"))), nil},
		{"PayloadHashEmptyPayload", idemqwatermill.PayloadHash(nil), empty, "", idemqwatermill.ErrNoKey},
		// Watermill's own hashers are KeyFuncs too (parity with its Deduplicator).
		{"WatermillSHA256Hasher", idemqwatermill.KeyFunc(middleware.NewMessageHasherSHA256(1 << 20)), withMeta, string(sum[:]), nil},
		{"WatermillMetadataHasher", idemqwatermill.KeyFunc(middleware.NewMessageHasherFromMetadataField(keyField)), withMeta, "order-1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.key(tt.msg)
			if got != tt.want || !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("key = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestPoisonable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"Nil", nil, false},
		{"HandlerError", errBoom, true},
		{"KeyError", &idemqwatermill.KeyError{UUID: "u", Err: idemqwatermill.ErrNoKey}, true},
		{"StoreDown", &idemqwatermill.GuardError{Key: "k", Err: errors.New("connection refused")}, false},
		{"CommitUnknown", &idemqwatermill.GuardError{Key: "k", Err: dedupe.ErrCommitUnknown}, false},
		{"LeaseLost", &idemqwatermill.GuardError{Key: "k", Err: dedupe.ErrLeaseLost}, false},
		{"InProgress", &idemqwatermill.GuardError{Key: "k", Err: dedupe.ErrInProgress}, false},
		{"StartTimeout", &idemqwatermill.GuardError{Key: "k", Err: idemqwatermill.ErrStartTimeout}, false},
		{"CorruptStoredValue", &idemqwatermill.GuardError{Key: "k", Err: &dedupe.DecodeError{Key: "k", Err: errBoom}}, true},
		{"WrappedGuardError", fmt.Errorf("outer: %w", &idemqwatermill.GuardError{Key: "k", Err: dedupe.ErrStoreClosed}), false},
	}
	for _, tt := range tests {
		if got := idemqwatermill.Poisonable(tt.err); got != tt.want {
			t.Errorf("%s: Poisonable(%v) = %v, want %v", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestErrorMessages(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		err  error
		want string
	}{
		{&idemqwatermill.KeyError{UUID: "u1", Err: idemqwatermill.ErrNoKey}, `idemqwatermill: key of message "u1": idemqwatermill: message has no idempotency key`},
		{&idemqwatermill.GuardError{Key: "k1", Err: dedupe.ErrInProgress}, `idemqwatermill: guard of key "k1": dedupe: key is being processed by another owner`},
		{&consumer.ConfigError{Package: "idemqwatermill", Field: "Guard.Lease", Reason: "is 1ms"}, `idemqwatermill: invalid config: Guard.Lease is 1ms`},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}
