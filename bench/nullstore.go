package main

import (
	"context"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// nullStore claims and commits every key at once, keeping nothing: the
// consumer's cost without a store's (a copy of adapters/kafka/bench_test.go's).
type nullStore struct{}

var _ dedupe.BatchStore = nullStore{}

func (nullStore) Watch(context.Context, string) (dedupe.Interest, error) { return nullInterest{}, nil }
func (nullStore) Get(context.Context, string) (dedupe.Record, error)     { return dedupe.Record{}, nil }
func (nullStore) Commit(context.Context, string, dedupe.Commit) (dedupe.Record, bool, error) {
	return dedupe.Record{}, true, nil
}
func (nullStore) Claim(context.Context, string, string, time.Duration) (dedupe.Record, bool, error) {
	return dedupe.Record{}, true, nil
}
func (nullStore) Renew(context.Context, string, string, time.Duration) (bool, error) {
	return true, nil
}
func (nullStore) Release(context.Context, string, string) (bool, error) { return true, nil }
func (nullStore) Close() error                                          { return nil }
func (nullStore) Exec(_ context.Context, ops []dedupe.Op) []dedupe.OpResult {
	res := make([]dedupe.OpResult, len(ops))
	for i := range res {
		res[i].OK = true
	}
	return res
}

type nullInterest struct{}

func (nullInterest) Events() <-chan dedupe.Event { return nil }
func (nullInterest) Close()                      {}
