package dedupe_test

import (
	"testing"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/dedupetest"
)

// memoryBackend hands out one MemoryStore: it has no connections to separate.
type memoryBackend struct{ store *dedupe.MemoryStore }

func (b memoryBackend) Store(t *testing.T) dedupe.Store { return b.store }

func TestMemoryStoreConformance(t *testing.T) {
	t.Parallel()
	dedupetest.Run(t, func(t *testing.T) dedupetest.Backend {
		return memoryBackend{dedupe.NewMemoryStore()}
	})
}
