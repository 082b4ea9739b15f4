package idemqwatermill

import (
	"errors"
	"testing"

	wmessage "github.com/ThreeDotsLabs/watermill/message"
)

// FuzzStoreKey checks that store keys never collide: two (kind, scope, key)
// triples with the same store key are the same triple.
func FuzzStoreKey(f *testing.F) {
	f.Add("orders", "k", "orders:", "k")
	f.Add("", "a:b", "a", "b")
	f.Fuzz(func(t *testing.T, scope1, key1, scope2, key2 string) {
		if storeKey(handlerKind, scope1, key1) == storeKey(handlerKind, scope2, key2) && (scope1 != scope2 || key1 != key2) {
			t.Fatalf("(%q, %q) and (%q, %q) share a store key", scope1, key1, scope2, key2)
		}
		if storeKey(handlerKind, scope1, key1) == storeKey(publishKind, scope1, key1) {
			t.Fatal("a handler's key and a publisher's share a store key")
		}
	})
}

// FuzzMetadataKey reads keys from arbitrary metadata: never a panic; the
// field's value is the key, and an empty or absent field is ErrNoKey.
func FuzzMetadataKey(f *testing.F) {
	f.Add("Idempotency-Key", "k1", "Idempotency-Key")
	f.Add("a", "", "a")
	f.Fuzz(func(t *testing.T, field, value, want string) {
		msg := wmessage.NewMessage("u", nil)
		msg.Metadata.Set(field, value)
		key, err := MetadataKey(want)(msg)
		switch {
		case field == want && value != "":
			if err != nil || key != value {
				t.Fatalf("MetadataKey(%q) = %q, %v; want %q", want, key, err, value)
			}
		case !errors.Is(err, ErrNoKey):
			t.Fatalf("MetadataKey(%q) = %q, %v; want ErrNoKey", want, key, err)
		}
	})
}
