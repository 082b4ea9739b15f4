// Package nullstore holds a dedupe.BatchStore that claims and commits every
// key at once and keeps nothing. The benchmarks run a consumer on it to
// measure the consumer's own cost, without a store's.
package nullstore

import (
	"context"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// Store grants every claim, renewal, release and commit and remembers
// nothing, so every key is new.
type Store struct{}

var _ dedupe.BatchStore = Store{}

// Watch returns an Interest that never delivers an event.
func (Store) Watch(context.Context, string) (dedupe.Interest, error) { return interest{}, nil }

// Get finds no record.
func (Store) Get(context.Context, string) (dedupe.Record, error) { return dedupe.Record{}, nil }

// Commit wins.
func (Store) Commit(context.Context, string, dedupe.Commit) (dedupe.Record, bool, error) {
	return dedupe.Record{}, true, nil
}

// Claim is granted.
func (Store) Claim(context.Context, string, string, time.Duration) (dedupe.Record, bool, error) {
	return dedupe.Record{}, true, nil
}

// Renew succeeds.
func (Store) Renew(context.Context, string, string, time.Duration) (bool, error) { return true, nil }

// Release succeeds.
func (Store) Release(context.Context, string, string) (bool, error) { return true, nil }

// Close does nothing.
func (Store) Close() error { return nil }

// Exec answers every operation with OK.
func (Store) Exec(_ context.Context, ops []dedupe.Op) []dedupe.OpResult {
	res := make([]dedupe.OpResult, len(ops))
	for i := range res {
		res[i].OK = true
	}
	return res
}

type interest struct{}

func (interest) Events() <-chan dedupe.Event { return nil }
func (interest) Close()                      {}
