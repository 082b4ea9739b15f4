package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/idemq/idemq/dedupe"
	"github.com/jackc/pgx/v5"
)

// Func is the work of a Run: its writes go through tx, in the transaction
// that also stores its key and the value it returns.
type Func[T, V any] func(ctx context.Context, tx T) (V, error)

// RunOption configures one Run.
type RunOption func(*runConfig)

type runConfig struct{ fingerprint []byte }

// WithFingerprint gives the Run a fingerprint of its payload: its digest is
// stored with the key, and a later Run of the key with another fingerprint
// gets a *dedupe.KeyReusedError instead of the stored value.
func WithFingerprint(fp []byte) RunOption {
	return func(c *runConfig) { c.fingerprint = fp }
}

// Run runs fn at most once per committed key of the store's scope, in one
// transaction with the key's row: fn's writes through tx and its value
// commit together, or not at all. See the package documentation for what
// each outcome means; RunIn does the same in a transaction of the caller's.
func Run[T, V any](ctx context.Context, s *Store[T], key string, fn Func[T, V], opts ...RunOption) (V, error) {
	if s == nil || fn == nil {
		var zero V
		return zero, fmt.Errorf("%w: pgstore.Run needs a store and a function", dedupe.ErrInvalidOption)
	}
	return runTyped(s, key, fn, opts, func(fp []byte, raw rawFunc[T]) (dedupe.TxOutcome, error) {
		return s.run(ctx, key, fp, raw)
	})
}

// rawFunc is a Func whose value is encoded.
type rawFunc[T any] func(ctx context.Context, tx T) ([]byte, error)

// runTyped is what Run and RunIn do with typed values: it encodes the
// value fn returns for do, which runs the guard, and decodes a duplicate's
// into a *dedupe.ConflictError.
func runTyped[T, V any](s *Store[T], key string, fn Func[T, V], opts []RunOption, do func(fp []byte, raw rawFunc[T]) (dedupe.TxOutcome, error)) (V, error) {
	var zero, v V
	var rc runConfig
	for _, o := range opts {
		if o != nil {
			o(&rc)
		}
	}
	out, err := do(rc.fingerprint, func(ctx context.Context, tx T) ([]byte, error) {
		var err error
		if v, err = fn(ctx, tx); err != nil {
			return nil, err
		}
		data, err := s.cfg.codec.Encode(v)
		if err != nil {
			return nil, fmt.Errorf("pgstore: encoding the value of key %q: %w", key, err)
		}
		return data, nil
	})
	switch {
	case err != nil:
		return zero, err
	case out.Duplicate:
		return zero, decodeConflict[V](s, key, out.Value)
	}
	return v, nil
}

// RunTx implements dedupe.TxStore, for the consumer adapters: fn gets the
// transaction from its ctx (Store.Tx).
func (s *Store[T]) RunTx(ctx context.Context, key string, fingerprint []byte, fn func(ctx context.Context) ([]byte, error)) (dedupe.TxOutcome, error) {
	if fn == nil {
		return dedupe.TxOutcome{}, fmt.Errorf("%w: pgstore: RunTx needs a function", dedupe.ErrInvalidOption)
	}
	return s.run(ctx, key, fingerprint, func(ctx context.Context, tx T) ([]byte, error) {
		return fn(context.WithValue(ctx, txKey{}, tx))
	})
}

// Tx returns the transaction of the RunTx call whose function got ctx.
func (s *Store[T]) Tx(ctx context.Context) (T, bool) {
	tx, ok := ctx.Value(txKey{}).(T)
	return tx, ok
}

// txKey is the context key of RunTx's transaction.
type txKey struct{}

// run is Run on encoded values: it begins a transaction, runs the guard in
// it and commits, or rolls back after an error or a duplicate.
func (s *Store[T]) run(ctx context.Context, key string, fp []byte, fn rawFunc[T]) (dedupe.TxOutcome, error) {
	var none dedupe.TxOutcome
	if err := checkKey(ctx, key); err != nil {
		return none, err
	}
	tx, t, err := s.db.begin(ctx)
	if err != nil {
		return none, fmt.Errorf("pgstore: beginning the transaction of key %q: %w", key, err)
	}
	committed := false
	defer func() {
		if !committed {
			_ = t.rollback(context.WithoutCancel(ctx)) // a failed rollback ends with the session
		}
	}()
	out, _, err := s.guard(ctx, t, tx, key, fp, fn, around{})
	if err != nil || out.Duplicate {
		return out, err
	}
	committed = true
	if err := t.commit(context.WithoutCancel(ctx)); err != nil {
		if sqlState(err) != "" || errors.Is(err, pgx.ErrTxCommitRollback) {
			// the server answered: it rolled back (a serialization failure, a
			// deferred constraint, a transaction an earlier statement aborted)
			return none, fmt.Errorf("pgstore: committing key %q: %w", key, err)
		}
		return none, fmt.Errorf("%w: pgstore: key %q: %w", dedupe.ErrCommitUnknown, key, err)
	}
	return out, nil
}

// checkKey is the check of a run before it touches the database: a valid
// key and a live ctx.
func checkKey(ctx context.Context, key string) error {
	if err := dedupe.CheckKey(key); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// guard is the part of a run inside a transaction, Run's and RunIn's
// alike: it claims key, calls fn and stores the value fn returns in the
// key's row; or it returns another run's committed value (Duplicate)
// without calling fn. Whoever began the transaction ends it, and undoes
// the claim after an error or a duplicate. ar's statements go in the round
// trips of the claim and of the value; done counts those that ran.
func (s *Store[T]) guard(ctx context.Context, t txn, tx T, key string, fp []byte, fn rawFunc[T], ar around) (out dedupe.TxOutcome, done int, err error) {
	held, done, err := s.claim(ctx, t, key, fp, ar.before)
	if err != nil || held != nil {
		if err == nil && held.given != "" && held.fingerprint != "" && held.given != held.fingerprint {
			err = &dedupe.KeyReusedError{Key: key, Stored: held.fingerprint, Given: held.given}
		}
		if err != nil {
			return out, done, err
		}
		return dedupe.TxOutcome{Value: held.value, Duplicate: true}, done, nil
	}
	data, err := fn(ctx, tx)
	if err != nil {
		return out, done, err
	}
	if data == nil {
		data = []byte{} // a value, never NULL: NULL marks a row its transaction owns
	}
	stmts := []stmt{{sql: s.sql.end, args: []any{s.scope, []byte(key), data}}}
	for _, q := range ar.after {
		stmts = append(stmts, stmt{sql: q})
	}
	ran, err := t.pipeline(ctx, stmts...)
	done += max(ran-1, 0)
	switch {
	case err != nil && ran == 0:
		return out, done, fmt.Errorf("pgstore: storing the value of key %q: %w", key, err)
	case err != nil:
		return out, done, fmt.Errorf("pgstore: key %q: %s: %w", key, stmts[ran].sql, err)
	}
	return dedupe.TxOutcome{Value: data}, done, nil
}

// around are statements that a run sends with its own, in the same round
// trips: before the claim, and after storing the value.
type around struct{ before, after []string }

// storedRow is what the claim found of another run's committed row.
type storedRow struct {
	value       []byte
	fingerprint string
	given       string // this run's fingerprint digest
}

// claim bounds the transaction's waits, then takes the key's row, in one
// round trip with the statements before (RunIn's savepoint): it returns nil
// once this transaction owns the row, or the committed row of another run;
// and how many of before ran.
func (s *Store[T]) claim(ctx context.Context, t txn, key string, fp []byte, before []string) (*storedRow, int, error) {
	var given *string
	if fp != nil {
		d := digest(fp)
		given = &d
	}
	var owned bool
	var value []byte
	var stored *string
	stmts := make([]stmt, 0, len(before)+2)
	for _, q := range before {
		stmts = append(stmts, stmt{sql: q})
	}
	if s.sql.timeouts != "" {
		stmts = append(stmts, stmt{sql: s.sql.timeouts})
	}
	stmts = append(stmts, stmt{sql: s.sql.claim, args: []any{s.scope, []byte(key), given, s.cfg.ttl.Milliseconds()},
		dest: []any{&owned, &value, &stored}})
	ran, err := t.pipeline(ctx, stmts...)
	done := min(ran, len(before))
	switch {
	case err != nil && ran < len(stmts)-1:
		return nil, done, fmt.Errorf("pgstore: key %q: %s: %w", key, stmts[ran].sql, err)
	case sqlState(err) == lockNotAvailable:
		return nil, done, fmt.Errorf("%w: pgstore: key %q: %w", dedupe.ErrInProgress, key, err)
	case err != nil:
		return nil, done, fmt.Errorf("pgstore: claiming key %q: %w", key, err)
	case owned:
		return nil, done, nil // this transaction owns the row
	}
	row := &storedRow{value: value}
	if stored != nil {
		row.fingerprint = *stored
	}
	if given != nil {
		row.given = *given
	}
	return row, done, nil
}

// decodeConflict turns another run's committed value into the
// *dedupe.ConflictError that Run returns.
func decodeConflict[V, T any](s *Store[T], key string, data []byte) error {
	var v V
	if err := s.cfg.codec.Decode(data, &v); err != nil {
		return &dedupe.DecodeError{Key: key, Err: err}
	}
	return &dedupe.ConflictError[V]{Key: key, Value: v}
}

// digest is what is kept of a fingerprint, as dedupe keeps it: the first
// 16 bytes of its SHA-256, hex-encoded.
func digest(fp []byte) string {
	sum := sha256.Sum256(fp)
	return hex.EncodeToString(sum[:16])
}
