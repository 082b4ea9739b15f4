package watermill

import (
	"fmt"

	"github.com/idemq/idemq/dedupe"
)

// Deduplicator runs Watermill handlers (Middleware, NoPublishHandler) and
// publishes (DecoratePublisher) at most once per key, through a dedupe.Store
// shared by every instance. Build it with New; it is safe for concurrent use
// and holds no goroutine of its own (the store does: close the store when
// the router has stopped).
type Deduplicator struct {
	store dedupe.Store
	cfg   Config
	opts  []dedupe.RunOption
}

// New validates cfg once and returns a Deduplicator on store (a
// dedupe.RedisStore across processes, a dedupe.MemoryStore within one). A
// nil store or an invalid Config is an error wrapping ErrInvalidConfig.
func New(store dedupe.Store, cfg Config) (*Deduplicator, error) {
	if store == nil {
		return nil, fmt.Errorf("%w: nil store", ErrInvalidConfig)
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Deduplicator{store: store, cfg: cfg, opts: cfg.runOptions()}, nil
}
