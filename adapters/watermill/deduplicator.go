package idemqwatermill

import (
	"github.com/idemq/idemq/consumer"
	"sync"

	"github.com/idemq/idemq/dedupe"
)

// Deduplicator runs Watermill handlers (Middleware, NoPublishHandler) and
// publishes (DecoratePublisher) at most once per key, through a dedupe.Store
// shared by every instance. Build it with New; it is safe for concurrent use
// and holds no goroutine of its own (the store does: close the store when
// the router has stopped).
type Deduplicator struct {
	store dedupe.Store
	tx    dedupe.TxStore // NewTx: instead of store
	cfg   Config
	opts  []dedupe.RunOption
	m     *metrics

	handlerScopes, publishScopes sync.Map // scopes already logged, per kind: string -> struct{}
}

// New validates cfg once and returns a Deduplicator on store (a
// redisstore.Store across processes, a dedupe.MemoryStore within one). A
// nil store (also a nil *redisstore.Store: see dedupe.IsNilStore) or an
// invalid Config is a *consumer.ConfigError (consumer.ErrInvalidConfig).
func New(store dedupe.Store, cfg Config) (*Deduplicator, error) {
	switch {
	case store == nil:
		return nil, invalid("store", "is nil")
	case dedupe.IsNilStore(store):
		return nil, invalid("store", "is a nil %T", store)
	}
	return newDeduplicator(cfg, func(d *Deduplicator) { d.store, d.opts = store, d.cfg.runOptions() })
}

// NewTx returns a Deduplicator on a transactional store (a
// *pgstore.Store): each handler runs inside a transaction of the store
// that holds its key, and the handler's writes through that transaction
// (pgstore's Store.Tx(msg.Context())) commit with the key's record and its
// outputs, or not at all: exactly-once effects in that database. The
// router acks only after the commit. A duplicate waits while another
// transaction holds the key, then gets the committed outputs. The store
// keeps its own TTL and needs no lease: Config's Guard and NoWait must be
// zero. A message without a valid key under KeyProcess
// runs without a transaction.
func NewTx(store dedupe.TxStore, cfg Config) (*Deduplicator, error) {
	switch {
	case store == nil:
		return nil, invalid("store", "is nil")
	case dedupe.IsNilTxStore(store):
		return nil, invalid("store", "is a nil %T", store)
	case cfg.Guard != (consumer.Guard{}) || cfg.NoWait:
		return nil, invalid("store", "is transactional: Guard and NoWait do not apply (the store keeps its own TTL)")
	}
	return newDeduplicator(cfg, func(d *Deduplicator) { d.tx = store })
}

// newDeduplicator validates cfg, fills in its defaults and sets up the
// metrics; on sets the store.
func newDeduplicator(cfg Config, on func(d *Deduplicator)) (*Deduplicator, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics(cfg.MeterProvider)
	if err != nil {
		return nil, err
	}
	d := &Deduplicator{cfg: cfg, m: m}
	on(d)
	return d, nil
}

// Stats returns the Deduplicator's counters.
func (d *Deduplicator) Stats() Stats { return d.m.stats() }

// logScope logs, once per scope, which scope a handler's keys live under:
// instances that name one handler differently deduplicate nothing between
// them, and this line shows it.
func (d *Deduplicator) logScope(kind, scope string, explicit bool) {
	seen := &d.handlerScopes
	if kind == publishKind {
		seen = &d.publishScopes
	}
	if _, ok := seen.Load(scope); ok { // the common case: no allocation
		return
	}
	if _, ok := seen.LoadOrStore(scope, struct{}{}); ok {
		return
	}
	source := "the router handler's name"
	switch {
	case explicit:
		source = "Config.Scope"
	case kind == publishKind:
		source = "the topic"
	}
	d.cfg.Logger.Info("idemqwatermill: deduplicating keys under a scope; every instance must use the same one",
		"kind", kind, "scope", scope, "from", source)
}
