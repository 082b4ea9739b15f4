package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// ledger is the handlers' side effect: one entry per handler run in a Redis
// hash, field = idempotency key, value = entries written for it. Exactly
// once means every key ends at 1.
type ledger struct {
	client redis.UniversalClient
	key    string
}

// add writes one entry for key and returns how many the key has now.
func (l ledger) add(ctx context.Context, key string) (int64, error) {
	n, err := l.client.HIncrBy(ctx, l.key, key, 1).Result()
	if err != nil {
		return 0, fmt.Errorf("demo: ledger entry for %s: %w", key, err)
	}
	return n, nil
}

// tally counts the keys by their number of entries.
type tally struct {
	once    int // keys with exactly one entry
	more    int // keys with more than one: double effects
	missing int // expected keys without any entry
	extra   int // entries for keys that were never produced
	entries int64
}

func (l ledger) tally(ctx context.Context, want map[string]struct{}) (tally, error) {
	all, err := l.client.HGetAll(ctx, l.key).Result()
	if err != nil {
		return tally{}, fmt.Errorf("demo: reading the ledger %s: %w", l.key, err)
	}
	var t tally
	for key, v := range all {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return tally{}, fmt.Errorf("demo: ledger %s has %q for %s: %w", l.key, v, key, err)
		}
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
