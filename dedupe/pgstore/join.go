package pgstore

import (
	"context"
	"errors"
	"fmt"
	"reflect"

	"github.com/idemq/idemq/dedupe"
)

// RunIn is Run in a transaction the caller began (a pgx.Tx or *sql.Tx of
// the Store's database): it claims key in tx, calls fn with tx and stores
// the value fn returns in the key's row, all inside a savepoint of tx, and
// leaves tx open. The caller commits, and the key's row commits with fn's
// writes and the caller's own, or rolls back, and none of them happened.
//
// The caller's part:
//   - Commit or roll back tx after RunIn, whatever it returned. Until then
//     tx holds the key's row: a concurrent run of the key waits for it.
//   - The COMMIT is the caller's, and so is its outcome: a COMMIT that gets
//     no answer (the connection lost) may have committed or not; do not
//     ack the message, and its redelivery finds the row (a duplicate) or
//     runs, and either is right.
//   - Use READ COMMITTED, PostgreSQL's default. Under REPEATABLE READ or
//     SERIALIZABLE a run that waited for another transaction's row gets a
//     serialization failure (SQLSTATE 40001) instead of the duplicate:
//     roll back and retry.
//   - RunIn sets lock_timeout and idle_in_transaction_session_timeout
//     (WithLockTimeout, WithIdleTimeout; both 0 leaves them alone) with
//     SET LOCAL semantics: they last for the rest of tx.
//
// What RunIn returns:
//
//	nil                        fn ran; its writes and the key's row are in tx, to commit
//	*dedupe.ConflictError[V]   a duplicate: the key committed before; Value is its value;
//	                           fn did not run and RunIn wrote nothing
//	*dedupe.KeyReusedError     the key committed for another payload (WithFingerprint)
//	dedupe.ErrInProgress       another transaction held the key's row past the lock timeout
//	fn's error                 fn's writes and the key's row are rolled back
//	other errors               the database failed; RunIn's part is rolled back
//
// After a duplicate or an error, tx is as it was before RunIn (RunIn
// rolled back to its savepoint): its earlier writes stand and it can go
// on. Except when the error says that the savepoint could not be rolled
// back or opened (the connection is gone, tx is finished or aborted by an
// earlier statement): then tx is unusable; roll it back.
func RunIn[T, V any](ctx context.Context, s *Store[T], tx T, key string, fn Func[T, V], opts ...RunOption) (V, error) {
	if s == nil || fn == nil {
		var zero V
		return zero, fmt.Errorf("%w: pgstore.RunIn needs a store and a function", dedupe.ErrInvalidOption)
	}
	return runTyped(s, key, fn, opts, func(fp []byte, raw rawFunc[T]) (dedupe.TxOutcome, error) {
		return s.runIn(ctx, tx, key, fp, raw)
	})
}

// runIn is RunIn on encoded values: the guard inside a savepoint of tx,
// opened in the claim's round trip and released in the value's, or rolled
// back to after an error or a duplicate.
func (s *Store[T]) runIn(ctx context.Context, tx T, key string, fp []byte, fn rawFunc[T]) (out dedupe.TxOutcome, err error) {
	if err := checkKey(ctx, key); err != nil {
		return out, err
	}
	if isNil(tx) {
		return out, fmt.Errorf("%w: pgstore.RunIn needs the caller's transaction, got a nil %T", dedupe.ErrInvalidOption, tx)
	}
	t := s.db.join(tx)
	// done counts SAVEPOINT and RELEASE: 1 while fn runs, so that a panic
	// in fn rolls back to the savepoint too.
	done := 1
	defer func() {
		if done == 1 {
			err = errors.Join(err, rollbackTo(context.WithoutCancel(ctx), t, key))
		}
	}()
	out, done, err = s.guard(ctx, t, tx, key, fp, fn, around{before: []string{savepointSQL}, after: []string{releaseSQL}})
	return out, err
}

// rollbackTo undoes RunIn's part of the caller's transaction: its
// savepoint is rolled back to, then released.
func rollbackTo(ctx context.Context, t txn, key string) error {
	err := t.exec(ctx, rollbackToSQL)
	if err == nil {
		err = t.exec(ctx, releaseSQL)
	}
	if err != nil {
		return fmt.Errorf("pgstore: key %q: rolling back to the savepoint failed, roll the transaction back: %w", key, err)
	}
	return nil
}

// isNil reports whether tx is nil or a nil pointer in an interface (a
// pgx.Tx holding a nil *pgxpool.Tx).
func isNil(tx any) bool {
	if tx == nil {
		return true
	}
	v := reflect.ValueOf(tx)
	return v.Kind() == reflect.Pointer && v.IsNil()
}
