package redisstore

import (
	"context"
	"errors"
	"strings"

	"github.com/redis/go-redis/v9"
)

// A server's compare-and-set support, found out once per store: Valkey 8.1+
// and Redis 8.4+ have SET key value IFEQ current, which makes a fenced commit
// and a renewal one plain write each instead of a script call.
const (
	casUnknown int32 = iota // not probed yet, or the probe's reply was lost
	casNative               // SET ... IFEQ works
	casScript               // the server refused it: Lua scripts only
)

// casProbeKey is the key the probe's SET ... IFEQ names, under the prefix:
// outside both record layouts (no brace), so no user key's record, and
// never created (IFEQ does not set an absent key).
const casProbeKey = "cas-probe"

// nativeCAS reports whether commits and renewals may use SET ... IFEQ.
func (s *Store) nativeCAS() bool { return s.cas.Load() == casNative }

// probeCAS queues the probe on pipe while support is unknown; probed reads
// its reply. The Exec that carries the probe uses the scripts.
func (s *Store) probeCAS(ctx context.Context, pipe redis.Pipeliner) *redis.Cmd {
	if s.cas.Load() != casUnknown {
		return nil
	}
	return pipe.Do(ctx, "SET", s.prefix+casProbeKey, "", "IFEQ", "\x00")
}

func (s *Store) probed(cmd *redis.Cmd) {
	if cmd == nil {
		return
	}
	switch err := cmd.Err(); {
	case err == nil, errors.Is(err, redis.Nil):
		s.cas.CompareAndSwap(casUnknown, casNative)
	case refusedCAS(err):
		s.cas.CompareAndSwap(casUnknown, casScript)
	}
}

// casFallback reports whether an op whose SET ... IFEQ failed with err goes
// out again as a script call: the key did not hold the plain claim (nil),
// or the server refused IFEQ, and the store uses scripts from then on.
func (s *Store) casFallback(err error) bool {
	if refusedCAS(err) {
		s.cas.Store(casScript)
		return true
	}
	return isNil(err)
}

// refusedCAS reports a server's refusal of SET ... IFEQ (a syntax error:
// the option is unknown). A refused command did nothing, so the op is sent
// again as a script call, and the store uses scripts from then on (a
// Cluster part-way through an upgrade, say).
func refusedCAS(err error) bool {
	var rerr redis.Error
	return errors.As(err, &rerr) && strings.Contains(strings.ToLower(err.Error()), "syntax")
}
