package redisstore

import (
	"context"
	_ "embed"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
)

// The store's Lua scripts; each file says what it does.
var (
	//go:embed scripts/commit.lua
	commitLua string
	//go:embed scripts/claimops.lua
	claimOpsLua string
	//go:embed scripts/watched.lua
	watchedLua string

	commitScript   = redis.NewScript(commitLua)
	claimOpsScript = redis.NewScript(claimOpsLua)
	watchedScript  = redis.NewScript(watchedLua)
)

// loadScripts loads every script, after a call was refused with NOSCRIPT
// (a restarted server, SCRIPT FLUSH, a Cluster node that never saw them).
func loadScripts(ctx context.Context, c redis.UniversalClient) error {
	var errs []error
	for _, s := range []*redis.Script{commitScript, claimOpsScript, watchedScript} {
		errs = append(errs, s.Load(ctx, c).Err())
	}
	return errors.Join(errs...)
}

// readClaimOpsReply reads one op's reply of the claimops script: 1 when
// the key held the claim (renewed or released), 0 otherwise.
func readClaimOpsReply(v any) dedupe.OpResult {
	n, _ := v.(int64)
	return dedupe.OpResult{OK: n == 1}
}

// readWatchedReply reads one op's reply of the watched script: 1 (claimed),
// nil (a read found the key free), or {current record, PTTL}.
func readWatchedReply(op *dedupe.Op, v any) dedupe.OpResult {
	if n, ok := v.(int64); ok && n == 1 {
		return claimed(op)
	}
	pair, ok := v.([]any)
	if !ok {
		return dedupe.OpResult{}
	}
	cur, _ := pair[0].(string)
	rec, err := parseRecord(op.Key, cur)
	if pttl, ok := pair[1].(int64); ok && err == nil && rec.State == dedupe.Claimed {
		rec.TTL = ttlFromPTTL(pttl)
	}
	return dedupe.OpResult{Current: rec, Err: err}
}

// ttlFromPTTL reads a PTTL reply of a live record: a PTTL of 0 (or -2,
// gone meanwhile) means it expires now and is reported as 1ns, never as 0
// ("unknown"); -1 (no expiry at all) is left unknown.
func ttlFromPTTL(pttl int64) time.Duration {
	switch {
	case pttl > 0:
		return time.Duration(pttl) * time.Millisecond
	case pttl == -1:
		return 0
	}
	return time.Nanosecond
}

// pttlMillis turns go-redis's PTTL duration back into Redis's reply: -1 and
// -2 stay as they are, anything else is milliseconds.
func pttlMillis(d time.Duration) int64 {
	if d < 0 {
		return int64(d)
	}
	return int64(d / time.Millisecond)
}
