package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Leases and TTLs of the floor's two writes: the guard's defaults.
const (
	floorLeaseMS = 30_000
	floorTTLMS   = 86_400_000
)

// floorValue is what the idemq rows commit: struct{}{} as JSON.
const floorValue = "{}"

// floorRun is the Redis floor of claim-first: two plain writes per fresh
// key, `SET k C<token> NX PX 30000` (the claim) and `SET k V<token>:{}
// XX PX 86400000` (the overwrite a commit is), with nothing checked. Each
// round of depth keys is two pipelines, the claims, then the writes, as the
// batch path's claim and commit round trips are; 4 goroutines send them.
func floorRun(depth, keys int) runFunc {
	return func(ctx context.Context, _ *services, rr rowRound) (timed, error) {
		client := rr.server.client
		token := newFloorToken()
		claim, commit := "C"+token, "V"+token+":"+floorValue
		var seq atomic.Int64
		start := time.Now()
		err := inRounds(ctx, keys, depth, func(ctx context.Context, n int) error {
			first := seq.Add(int64(n)) - int64(n)
			if err := floorPipeline(ctx, client, rr.prefix, first, n, claim, "NX", floorLeaseMS); err != nil {
				return err
			}
			return floorPipeline(ctx, client, rr.prefix, first, n, commit, "XX", floorTTLMS)
		})
		return timed{elapsed: time.Since(start), items: keys}, err
	}
}

// floorPipeline sends n SETs of keys first..first+n-1 in one pipeline.
func floorPipeline(ctx context.Context, c *redis.Client, prefix string, first int64, n int, value, mode string, px int) error {
	p := c.Pipeline()
	for i := range int64(n) {
		p.Do(ctx, "set", prefix+"{f"+strconv.FormatInt(first+i, 36)+"}", value, mode, "px", px)
	}
	_, err := p.Exec(ctx)
	return err
}

// newFloorToken is a token of the guard's length (16 random bytes in hex).
func newFloorToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
