package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// ledger is where a phase's handlers write their side effect, one entry
// per handler run, and where the report counts them per key. Exactly once
// means every key ends at 1.
type ledger interface {
	// add writes one entry for key.
	add(ctx context.Context, key string) error
	// entries returns every key's number of entries.
	entries(ctx context.Context) (map[string]int64, error)
}

// redisLedger is a Redis hash, field = idempotency key, value = entries
// written for it: an effect outside the consumer's store (it stands for a
// payment provider), written through the run's own client, so a crashed
// member's writes that were done stay done.
type redisLedger struct {
	client redis.UniversalClient
	key    string
}

func (l redisLedger) add(ctx context.Context, key string) error {
	if err := l.client.HIncrBy(ctx, l.key, key, 1).Err(); err != nil {
		return fmt.Errorf("demo: ledger entry for %s: %w", key, err)
	}
	return nil
}

func (l redisLedger) entries(ctx context.Context) (map[string]int64, error) {
	all, err := l.client.HGetAll(ctx, l.key).Result()
	if err != nil {
		return nil, fmt.Errorf("demo: reading the ledger %s: %w", l.key, err)
	}
	counts := make(map[string]int64, len(all))
	for key, v := range all {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("demo: ledger %s has %q for %s: %w", l.key, v, key, err)
		}
		counts[key] = n
	}
	return counts, nil
}

// tally counts the keys by their number of entries.
type tally struct {
	once    int // keys with exactly one entry
	more    int // keys with more than one: double effects
	missing int // expected keys without any entry
	extra   int // entries for keys that were never produced
	entries int64
}

// tallyLedger reads l and counts its keys against the produced ones.
func tallyLedger(ctx context.Context, l ledger, want map[string]struct{}) (tally, error) {
	all, err := l.entries(ctx)
	if err != nil {
		return tally{}, err
	}
	var t tally
	for key, n := range all {
		t.entries += n
		switch _, ok := want[key]; {
		case !ok:
			t.extra++
		case n == 1:
			t.once++
		case n > 1:
			t.more++
		}
	}
	for key := range want {
		if _, ok := all[key]; !ok {
			t.missing++
		}
	}
	return t, nil
}
