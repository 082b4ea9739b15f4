// Package pgstore keeps deduplication records in PostgreSQL, in the same
// transaction as the handler's own writes, so that an effect in the
// database and the record that it happened commit or roll back together:
// exactly-once effects, where the Redis store can only promise at most one
// live owner per key.
//
//	pool, err := pgxpool.New(ctx, url)
//	if err != nil { ... }
//	store, err := pgstore.New(pool, "orders-consumer") // the scope: who deduplicates
//	if err != nil { ... }
//	if err := store.Migrate(ctx); err != nil { ... }  // or apply Schema by hand
//	receipt, err := pgstore.Run(ctx, store, key, func(ctx context.Context, tx pgx.Tx) (string, error) {
//		_, err := tx.Exec(ctx, "INSERT INTO orders (id, total) VALUES ($1, $2)", id, total)
//		return "order " + id, err
//	})
//
// Run begins a transaction and inserts the key's row first (pessimistic):
// a concurrent Run of the same key blocks on that row until the first one
// commits (and then returns a *dedupe.ConflictError with the committed
// value, without running its function) or rolls back (and then runs
// itself). The function's writes, and the value it returns, commit in the
// same transaction as the row. A function that fails rolls everything back:
// nothing is stored and the key is free. A process that dies mid-run takes
// its transaction and its row lock with it: no lease to wait out.
//
// NewSQL does the same on a *sql.DB (pgx's stdlib driver, lib/pq; Bun,
// GORM and sqlc users pass their *sql.DB), and the function gets the
// *sql.Tx.
//
// # What each outcome means
//
//	nil                        the function ran and its transaction committed: ack
//	*dedupe.ConflictError[V]   a duplicate: the key committed before; Value is its value: ack
//	*dedupe.KeyReusedError     the key committed for another payload (WithFingerprint): bad data
//	dedupe.ErrCommitUnknown    COMMIT was sent but no answer came: never ack; the
//	                           redelivery finds the row (a duplicate) or not (runs again),
//	                           and either is right
//	dedupe.ErrInProgress       another transaction held the key's row past the lock
//	                           timeout (WithLockTimeout): retry later, do not ack
//	the function's error       rolled back, nothing stored: do not ack
//	other errors               the database failed before COMMIT: rolled back, do not ack
//
// # In the caller's transaction
//
// RunIn does the same in a transaction the caller began (a pgx.Tx, or a
// *sql.Tx from Bun, GORM or sqlc), inside a savepoint of it: the key's row
// and fn's writes join the caller's own writes, and the caller's COMMIT
// commits them all, or its ROLLBACK none. A failed fn, a duplicate or a
// lock timeout rolls back to the savepoint only: the caller's transaction
// goes on, as it was before RunIn. The COMMIT, and its unknown outcome when
// the connection is lost during it, are the caller's; RunIn's
// documentation lists what each of its errors means.
//
//	tx, err := pool.Begin(ctx)
//	...
//	_, err = tx.Exec(ctx, "UPDATE accounts SET ...")       // the caller's own write
//	id, err := pgstore.RunIn(ctx, store, tx, key, placeOrder) // the guarded effect
//	...
//	err = tx.Commit(ctx) // the update, the order and the key's row, together
//
// # Expired rows
//
// Rows are keyed by (scope, key): the scope names the consumer (a group, a
// handler), so that two consumers of one message deduplicate apart. A row
// lives for the TTL (WithTTL, dedupe.DefaultTTL); an expired row counts as
// absent, and DeleteExpired removes expired rows in bounded batches, each
// in a short transaction of its own. RunJanitor calls it every interval
// until its ctx ends, in the caller's goroutine:
//
//	go store.RunJanitor(ctx, pgstore.JanitorConfig{}) // every minute, 1000 rows per DELETE
//
// A stalled owner holds its row lock, and with it every duplicate of its
// key, until its transaction ends. Run bounds both sides in the
// transaction: lock_timeout (WithLockTimeout, default 30s) bounds a
// duplicate's wait, and idle_in_transaction_session_timeout (WithIdleTimeout,
// default one minute) ends an owner's session that stopped talking to the
// server (a paused or partitioned process), which releases its lock.
package pgstore
