package main

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

// queuedLease is the lease of a key the Kafka adapter claimed and whose
// handler has not started.
const queuedLease = dedupe.DefaultQueuedLease

// newStore is a worker's guard store: a redisstore.Store under the run's prefix,
// journaled. name maps store keys to the report's keys (nil: the same).
func newStore(client redis.UniversalClient, prefix string, j *journal, name func(string) string) (*recordingStore, func(), error) {
	rs, err := redisstore.New(client, redisstore.WithPrefix(prefix))
	if err != nil {
		return nil, nil, fmt.Errorf("chaos: %w", err)
	}
	return &recordingStore{BatchStore: rs, j: j, name: name}, func() { _ = rs.Close() }, nil
}

// recordingStore is the worker's dedupe.Store: the real redisstore.Store, with
// every claim won, commit won, release and lost lease journaled once the
// store answered. The journal then tells, at any instant, which keys a
// process held and which of its commits had landed: what a SIGKILL at that
// instant strands and what it may make run twice. It changes nothing the
// guard sees.
//
// This file (the dedupe package), adapters.go and franz.go (the adapters)
// and pgadapters.go (-store postgres) are the only ones that touch idemq's
// API.
type recordingStore struct {
	dedupe.BatchStore
	j *journal
	// name maps a store key to the key the report counts (the Watermill
	// adapter scopes its keys); nil means the same.
	name func(storeKey string) string
}

var _ dedupe.BatchStore = (*recordingStore)(nil)

func (s *recordingStore) key(storeKey string) string {
	if s.name == nil {
		return storeKey
	}
	return s.name(storeKey)
}

func (s *recordingStore) Claim(ctx context.Context, key, token string, lease time.Duration) (dedupe.Record, bool, error) {
	r, ok, err := s.BatchStore.Claim(ctx, key, token, lease)
	if err == nil && ok {
		s.j.write(entry{kind: evClaim, key: s.key(key), token: token})
	}
	return r, ok, err
}

func (s *recordingStore) Commit(ctx context.Context, key string, c dedupe.Commit) (dedupe.Record, bool, error) {
	r, won, err := s.BatchStore.Commit(ctx, key, c)
	if err == nil && won {
		s.j.write(entry{kind: evCommit, key: s.key(key), token: c.Token})
	}
	return r, won, err
}

func (s *recordingStore) Renew(ctx context.Context, key, token string, lease time.Duration) (bool, error) {
	held, err := s.BatchStore.Renew(ctx, key, token, lease)
	if err == nil && !held {
		s.j.write(entry{kind: evLost, key: s.key(key), token: token})
	}
	return held, err
}

func (s *recordingStore) Release(ctx context.Context, key, token string) (bool, error) {
	released, err := s.BatchStore.Release(ctx, key, token)
	if err == nil && released {
		s.j.write(entry{kind: evRelease, key: s.key(key), token: token})
	}
	return released, err
}

// Exec runs a batch of ops in one round trip and journals their outcomes
// in one write.
func (s *recordingStore) Exec(ctx context.Context, ops []dedupe.Op) []dedupe.OpResult {
	results := s.BatchStore.Exec(ctx, ops)
	var entries []entry
	for i, r := range results {
		if r.Err != nil || i >= len(ops) {
			continue
		}
		if kind, ok := journaled(ops[i].Kind, r.OK); ok {
			entries = append(entries, entry{kind: kind, key: s.key(ops[i].Key), token: ops[i].Token})
		}
	}
	s.j.write(entries...)
	return results
}

// journaled says which event an op's answer is, if any.
func journaled(kind dedupe.OpKind, ok bool) (byte, bool) {
	switch {
	case kind == dedupe.OpClaim && ok:
		return evClaim, true
	case kind == dedupe.OpCommit && ok:
		return evCommit, true
	case kind == dedupe.OpRelease && ok:
		return evRelease, true
	case kind == dedupe.OpRenew && !ok:
		return evLost, true
	}
	return 0, false
}

// readRecords describes what the guard's store holds now for each key
// (storeKey maps a report key to its store key), for the evidence of a
// bug report.
func readRecords(ctx context.Context, addr, prefix string, keys []string, storeKey func(string) string) (map[string]string, error) {
	client := redis.NewClient(&redis.Options{Addr: addr})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.WithPrefix(prefix))
	if err != nil {
		return nil, err
	}
	defer store.Close()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		rec, err := store.Get(ctx, storeKey(k))
		switch {
		case err != nil:
			out[k] = "error: " + err.Error()
		case rec.State == dedupe.Committed:
			out[k] = fmt.Sprintf("committed by token %s, value %q", rec.Token, rec.Value)
		case rec.State == dedupe.Claimed:
			out[k] = fmt.Sprintf("claimed by token %s, lease left %v", rec.Token, rec.TTL)
		default:
			out[k] = rec.State.String()
		}
	}
	return out, nil
}
