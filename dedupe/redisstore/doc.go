// Package redisstore is the Redis backend of package dedupe: a dedupe.Store
// (and dedupe.BatchStore) on Redis 7+, Valkey or a Redis Cluster, shared by
// every process that uses the same Redis and prefix, and the operator API
// that the idemq command (cmd/idemq) uses: Inspect, Scan, ForceRelease,
// Forget and Stats.
//
//	store, err := redisstore.New(client, redisstore.WithPrefix("orders:"))
//	if err != nil {
//		return err // a Ring client, a prefix with braces
//	}
//	defer store.Close() // before the client
//	order, err := dedupe.Run(ctx, store, key, fn)
//
// The guard itself (Run, Batch, their options and errors) is package dedupe;
// the options here (WithPrefix, WithReplicaAcks, WithLogger,
// WithSubscribeTimeout, WithoutGroupCommit) configure the store only.
//
// # Keys and Redis layout
//
// A Store keeps key K at PREFIX{K} (default prefix "idemq:") and notifies
// on PREFIX{K}:events; the hash tag keeps both in one Cluster slot, and on a
// Cluster notifications use sharded pub/sub (SPUBLISH/SSUBSCRIBE). A key
// containing '{' or '}' (which would end or empty that tag) is kept at
// PREFIX{#H}:K, H a hash of K; a prefix with braces is refused. The record
// is "C"+token for a claim, "W"+token for a claim that a waiter marked (so
// that its commit or release is published: an unmarked claim's commit
// publishes nothing, since nobody waits for it), or "V"+token+":"+value for
// a committed value, which lives for the TTL (dedupe.WithTTL). Tokens are
// opaque to the store (dedupe.CheckToken): a guard's is 16 characters (12
// random bytes in base64url; earlier versions' 32 hex digits are read and
// fenced alike), and may end in "~" and the digest of the run's
// fingerprint. The layout is defined once, in record.go.
//
// A Store needs Redis 7.0 or newer (SET NX GET, sharded pub/sub), or
// Valkey, and refuses a *redis.Ring. Its client may speak RESP3 (go-redis's
// default) or RESP2 (redis.Options.Protocol 2). On a server with native compare-and-set
// (SET ... IFEQ: Valkey 8.1+, Redis 8.4+, found out once per store) fenced
// commits and renewals are single plain writes; otherwise they are Lua
// script calls, many keys per call.
//
// One Store uses one pub/sub connection per Redis master (one on a single
// node), shared by all its guards; guards on the same key share one
// subscription. (Un)subscribe commands are written by one goroutine per
// connection, outside the store's lock, so a stalled socket never blocks
// Watch, Interest.Close or notifications on other connections (on the stalled
// one, go-redis's WriteTimeout bounds the stall, then the store reconnects).
// It reconnects with backoff, resubscribes and has every guard re-read its
// key. While the connection cannot be made, Watch fails at once with a
// *dedupe.StoreError; a subscription Redis does not confirm within the
// subscribe timeout (WithSubscribeTimeout, default 5s) fails too.
//
// # Cost
//
// A fresh key costs two writes in claim mode: the claim (SET NX GET) and the
// fenced commit (SET IFEQ where the server has it, else a GET and a SET in a
// script); a duplicate of a committed key costs the claim alone, and Run
// subscribes only when it must wait. An optimistic Run takes 3 round trips
// (SUBSCRIBE, GET, the commit) plus an UNSUBSCRIBE that is not waited for.
// Group commit (on by default; see WithoutGroupCommit) sends the calls
// concurrent guards make while a round trip is in flight together in the
// next one; a Run's commit joins it through ExecAsync, with no goroutine
// waiting for it. `make bench` measures it all against two plain writes per
// key.
//
// A committed key holds its record for the TTL. With a value of up to 26
// bytes the record ("V", the token, ":", the value) is at most 44 bytes,
// which Redis keeps in one allocation with its object header: on Redis 7.0
// a key committed with a 24-byte value takes about 181 bytes (a 25-byte
// record key; a plain `SET k 1` marker takes 117, and the 24-byte value
// stored alone 165), with a 256-byte value about 453 (as much as the
// value alone). `make bench` measures it (server memory per committed key).
package redisstore
