// # Operating a Store
//
// A Store also answers an operator's questions, as the idemq command
// (cmd/idemq) asks them:
//
//	info, err := store.Inspect(ctx, key)        // free, claimed (token, lease left, watched) or committed (value, TTL left)
//	page, err := store.Scan(ctx, redisstore.ScanOptions{State: dedupe.Claimed, Match: "order-*"})
//	for page.Cursor != "" { /* Scan again with ScanOptions{Cursor: page.Cursor, ...} */ }
//	released, err := store.ForceRelease(ctx, key) // a stuck claim, whatever its token; waiters wake
//	released, err = store.ForceReleaseToken(ctx, key, info.Token) // the same, if the claim is still the one shown
//	released, err = store.Release(ctx, key, token) // one owner's claim only (fenced)
//	forgotten, err := store.Forget(ctx, key)     // a committed value: the next delivery runs again
//	forgotten, err = store.ForgetToken(ctx, key, info.Token) // the same, if the value is still the one shown
//	stats, err := store.Stats(ctx, redisstore.StatsOptions{})
//
// Inspect reads a key's record and its PTTL in one atomic step. Scan and
// Stats walk the prefix with SCAN, never KEYS, on a Cluster over every
// master, a bounded amount per call (ScanOptions.Limit and MaxScans,
// StatsOptions.MaxKeys), and map record keys back to user keys in both
// layouts (PREFIX{K} and PREFIX{#H}:K); they read only the first bytes of
// each committed value. Their reads are a read-only Lua script (flags
// no-writes), so they work on a server that is out of memory.
//
// A claim is stuck when its owner died: it frees itself when its lease runs
// out (a Batch's key whose work had not started: the queued lease, 5s by
// default; one it was working on: the lease, 30s by default), and waiters
// then claim the key. ForceRelease frees it at once and publishes a
// release, so that waiters claim it now; Release with the owner's token does
// the same for that owner only (a waiter marks the claim before it waits, so
// the fenced release publishes too). Either is safe for the key's effects
// only if the owner is
// really gone: a live owner whose claim is released loses its lease (its
// commit is refused once another owner has claimed the key, and lands if
// nobody has), but its work may already have had effects, and the next
// owner runs it again. Forget is for a value committed by mistake; it
// makes the next delivery of the key run its work again. After a question
// to an operator, use ForceReleaseToken and ForgetToken with the token the
// operator was shown: the key may have changed while they read.
//
// No claim's age can be told (a record keeps neither the time of its claim
// nor its lease, and renewals set the lease again): StoreStats.ShortestLease
// is the claim with the least lease left. A live owner renews its claims
// every third of its shortest lease S (the queued lease of a Batch, Run's
// lease), so a claim with less than 2S/3 left is one its owner stopped
// renewing.
package redisstore
