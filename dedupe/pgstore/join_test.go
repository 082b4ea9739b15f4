package pgstore_test

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/pgstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// begin begins a caller's transaction on pool, rolled back at the end of
// the test if it is still open.
func begin(t *testing.T, pool *pgxpool.Pool) pgx.Tx {
	t.Helper()
	tx, err := pool.Begin(testContext(t))
	if err != nil {
		t.Fatalf("Begin: %v", err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	return tx
}

// commit commits a caller's transaction.
func commit(t *testing.T, tx pgx.Tx) {
	t.Helper()
	if err := tx.Commit(testContext(t)); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// effectFunc is a RunIn function that writes one effect row for key.
func (e *pgEnv) effectFunc(key, run string) pgstore.Func[pgx.Tx, string] {
	return func(ctx context.Context, tx pgx.Tx) (string, error) {
		return run, e.effect(ctx, tx, key, run)
	}
}

// mustNotRun is a function that fails the test if it runs.
func mustNotRun(t *testing.T) pgstore.Func[pgx.Tx, string] {
	return func(context.Context, pgx.Tx) (string, error) {
		t.Error("the function ran")
		return "", nil
	}
}

// TestRunInCommitsWithTheCaller: the effect, the key's row and the
// caller's own write are invisible until the caller commits, then all
// there; the key is then a duplicate.
func TestRunInCommitsWithTheCaller(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.store(t, nil)
	ctx := testContext(t)
	tx := begin(t, e.pool)
	if err := e.effect(ctx, tx, "caller", "before"); err != nil {
		t.Fatal(err)
	}
	got, err := pgstore.RunIn(ctx, s, tx, "k", e.effectFunc("k", "first"))
	if err != nil || got != "first" {
		t.Fatalf("RunIn = %q, %v; want first", got, err)
	}
	var lockTimeout string
	if err := tx.QueryRow(ctx, "SHOW lock_timeout").Scan(&lockTimeout); err != nil || lockTimeout != "30s" {
		t.Errorf("lock_timeout in the caller's transaction after RunIn = %q, %v; want 30s", lockTimeout, err)
	}
	if n := e.effectsOf(t, "k") + e.effectsOf(t, "caller"); n != 0 {
		t.Fatalf("committed effects before the caller's COMMIT = %d, want 0", n)
	}
	commit(t, tx)
	if a, b := e.effectsOf(t, "k"), e.effectsOf(t, "caller"); a != 1 || b != 1 {
		t.Fatalf("effects after COMMIT: k %d, caller %d; want 1 and 1", a, b)
	}
	var conflict *dedupe.ConflictError[string]
	if _, err := pgstore.Run(ctx, s, "k", mustNotRun(t)); !errors.As(err, &conflict) || conflict.Value != "first" {
		t.Fatalf("Run after the caller committed = %v, want a conflict with first", err)
	}
}

// TestRunInCallerRollback: the caller rolls back: no effect, and the key
// is free.
func TestRunInCallerRollback(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.store(t, nil)
	ctx := testContext(t)
	tx := begin(t, e.pool)
	if _, err := pgstore.RunIn(ctx, s, tx, "k", e.effectFunc("k", "rolled back")); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if n := e.effectsOf(t, "k"); n != 0 {
		t.Fatalf("effects after the caller's rollback = %d, want 0", n)
	}
	if got, err := pgstore.Run(ctx, s, "k", e.effectFunc("k", "again")); err != nil || got != "again" {
		t.Fatalf("Run after the caller's rollback = %q, %v; want it to run", got, err)
	}
}

// TestRunInFunctionErrorKeepsCallersWrites: a function that fails, with
// its own error or an SQL error that aborts the transaction, is rolled
// back to RunIn's savepoint: the caller's writes before and after stand,
// the key is free within the same transaction, and the caller commits.
func TestRunInFunctionErrorKeepsCallersWrites(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.store(t, nil)
	ctx := testContext(t)
	boom := errors.New("boom")
	tx := begin(t, e.pool)
	if err := e.effect(ctx, tx, "caller", "before"); err != nil {
		t.Fatal(err)
	}
	_, err := pgstore.RunIn(ctx, s, tx, "k", func(ctx context.Context, tx pgx.Tx) (string, error) {
		return "", errors.Join(e.effect(ctx, tx, "k", "failed"), boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("RunIn whose function failed = %v, want boom", err)
	}
	_, err = pgstore.RunIn(ctx, s, tx, "k", func(ctx context.Context, tx pgx.Tx) (string, error) {
		if err := e.effect(ctx, tx, "k", "aborted"); err != nil {
			return "", err
		}
		_, err := tx.Exec(ctx, "INSERT INTO no_such_table VALUES (1)")
		return "", err
	})
	if state := pgState(err); state != "42P01" {
		t.Fatalf("RunIn whose function's statement failed = %v, want SQLSTATE 42P01", err)
	}
	if err := e.effect(ctx, tx, "caller", "after"); err != nil {
		t.Fatalf("the caller's write after a failed RunIn = %v, want its transaction usable", err)
	}
	if got, err := pgstore.RunIn(ctx, s, tx, "k", e.effectFunc("k", "third")); err != nil || got != "third" {
		t.Fatalf("RunIn after the failed ones = %q, %v; want it to run", got, err)
	}
	commit(t, tx)
	rows, err := e.pool.Query(ctx, "SELECT key || ':' || run FROM "+e.effects+" ORDER BY key, run")
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if want := []string{"caller:after", "caller:before", "k:third"}; err != nil || !slices.Equal(got, want) {
		t.Fatalf("committed effects = %v, %v; want %v", got, err, want)
	}
}

// TestRunInFunctionPanicRollsBackToTheSavepoint: a function that panics
// after its write: the panic reaches the caller, RunIn's part is rolled
// back, and the caller's transaction goes on.
func TestRunInFunctionPanicRollsBackToTheSavepoint(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.store(t, nil)
	ctx := testContext(t)
	tx := begin(t, e.pool)
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the function's panic", r)
			}
		}()
		_, _ = pgstore.RunIn(ctx, s, tx, "k", func(ctx context.Context, tx pgx.Tx) (string, error) {
			if err := e.effect(ctx, tx, "k", "panicked"); err != nil {
				return "", err
			}
			panic("boom")
		})
	}()
	if err := e.effect(ctx, tx, "caller", "after"); err != nil {
		t.Fatalf("the caller's write after the panic = %v", err)
	}
	commit(t, tx)
	if a, b := e.effectsOf(t, "k"), e.effectsOf(t, "caller"); a != 0 || b != 1 {
		t.Fatalf("effects: k %d, caller %d; want 0 and 1", a, b)
	}
	if _, err := pgstore.Run(ctx, s, "k", e.effectFunc("k", "again")); err != nil {
		t.Fatalf("Run after the panic = %v, want the key free", err)
	}
}

// TestRunInDuplicate: a key committed before, or run earlier in the same
// transaction, is a *dedupe.ConflictError with its value; the function
// does not run, RunIn leaves no lock on the row, and the caller's
// transaction goes on.
func TestRunInDuplicate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.store(t, nil)
	ctx := testContext(t)
	if _, err := pgstore.Run(ctx, s, "done", e.effectFunc("done", "earlier")); err != nil {
		t.Fatal(err)
	}
	tx := begin(t, e.pool)
	var conflict *dedupe.ConflictError[string]
	if _, err := pgstore.RunIn(ctx, s, tx, "done", mustNotRun(t)); !errors.As(err, &conflict) || conflict.Value != "earlier" {
		t.Fatalf("RunIn of a committed key = %v, want a conflict with earlier", err)
	}
	var key []byte
	err := e.pool.QueryRow(ctx, "SELECT key FROM "+e.table+" WHERE key = 'done'::bytea FOR UPDATE NOWAIT").Scan(&key)
	if err != nil {
		t.Fatalf("locking the duplicate's row from another session = %v, want it free", err)
	}
	if _, err := pgstore.RunIn(ctx, s, tx, "new", e.effectFunc("new", "once")); err != nil {
		t.Fatal(err)
	}
	if _, err := pgstore.RunIn(ctx, s, tx, "new", mustNotRun(t)); !errors.As(err, &conflict) || conflict.Value != "once" {
		t.Fatalf("second RunIn of a key in one transaction = %v, want a conflict with once", err)
	}
	if err := e.effect(ctx, tx, "caller", "after"); err != nil {
		t.Fatalf("the caller's write after a duplicate = %v", err)
	}
	commit(t, tx)
	for key, want := range map[string]int{"done": 1, "new": 1, "caller": 1} {
		if n := e.effectsOf(t, key); n != want {
			t.Errorf("effects of %s = %d, want %d", key, n, want)
		}
	}
}

// TestRunInConcurrentDuplicates: 50 callers, each in a transaction with a
// write of its own, run one key at once on 20 connections: one effect;
// every other caller gets the winner's value and still commits its own
// write.
func TestRunInConcurrentDuplicates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool := newPool(t, e.url+"&pool_max_conns=20")
	s := e.store(t, pool)
	ctx := testContext(t)
	const callers = 50
	errs := make([]error, callers)
	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			errs[i] = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
				if err := e.effect(ctx, tx, "caller", strconv.Itoa(i)); err != nil {
					return err
				}
				_, err := pgstore.RunIn(ctx, s, tx, "k", e.effectFunc("k", strconv.Itoa(i)))
				if errors.Is(err, dedupe.ErrConflict) {
					return nil // the caller commits its own write
				}
				return err
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("caller %d = %v", i, err)
		}
	}
	if n := e.effectsOf(t, "k"); n != 1 {
		t.Fatalf("effects of k = %d, want 1", n)
	}
	if n := e.effectsOf(t, "caller"); n != callers {
		t.Fatalf("callers' own writes = %d, want %d", n, callers)
	}
}

// TestRunInLockTimeout: a caller whose key another transaction holds past
// the lock timeout gets dedupe.ErrInProgress, and its transaction goes on.
func TestRunInLockTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner, dup := e.store(t, nil), e.store(t, nil, pgstore.WithLockTimeout(100*time.Millisecond))
	ctx := testContext(t)
	holder := begin(t, e.pool)
	if _, err := pgstore.RunIn(ctx, owner, holder, "k", e.effectFunc("k", "owner")); err != nil {
		t.Fatal(err)
	}
	tx := begin(t, e.pool)
	if _, err := pgstore.RunIn(ctx, dup, tx, "k", mustNotRun(t)); !errors.Is(err, dedupe.ErrInProgress) {
		t.Fatalf("RunIn of a held key = %v, want ErrInProgress", err)
	}
	if err := e.effect(ctx, tx, "caller", "after"); err != nil {
		t.Fatalf("the caller's write after ErrInProgress = %v", err)
	}
	commit(t, tx)
	commit(t, holder)
	if a, b := e.effectsOf(t, "k"), e.effectsOf(t, "caller"); a != 1 || b != 1 {
		t.Fatalf("effects: k %d, caller %d; want 1 and 1", a, b)
	}
}

// TestRunInRepeatableRead: as RunIn's doc says, under REPEATABLE READ a
// key committed after the caller's snapshot is a serialization failure,
// not a duplicate; the function does not run.
func TestRunInRepeatableRead(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.store(t, nil)
	ctx := testContext(t)
	tx, err := e.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) })
	if _, err := tx.Exec(ctx, "SELECT 1"); err != nil { // takes the snapshot
		t.Fatal(err)
	}
	if _, err := pgstore.Run(ctx, s, "k", e.effectFunc("k", "other")); err != nil {
		t.Fatal(err)
	}
	if _, err := pgstore.RunIn(ctx, s, tx, "k", mustNotRun(t)); pgState(err) != "40001" {
		t.Fatalf("RunIn under REPEATABLE READ of a key committed since = %v, want SQLSTATE 40001", err)
	}
}

// TestRunInDatabaseSQL: the same on a *sql.Tx: a failed function rolls
// back alone, a run commits with the caller's write.
func TestRunInDatabaseSQL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.sqlStore(t)
	ctx := testContext(t)
	db := sqlDB(t, e.url)
	effect := func(ctx context.Context, tx *sql.Tx, key, run string) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO "+e.effects+" (key, run) VALUES ($1, $2)", key, run)
		return err
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback() })
	boom := errors.New("boom")
	if _, err := pgstore.RunIn(ctx, s, tx, "k", func(ctx context.Context, tx *sql.Tx) (string, error) {
		return "", errors.Join(effect(ctx, tx, "k", "failed"), boom)
	}); !errors.Is(err, boom) {
		t.Fatalf("RunIn whose function failed = %v, want boom", err)
	}
	if err := effect(ctx, tx, "caller", "after"); err != nil {
		t.Fatal(err)
	}
	if got, err := pgstore.RunIn(ctx, s, tx, "k", func(ctx context.Context, tx *sql.Tx) (string, error) {
		return "ran", effect(ctx, tx, "k", "ran")
	}); err != nil || got != "ran" {
		t.Fatalf("RunIn = %q, %v", got, err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if a, b := e.effectsOf(t, "k"), e.effectsOf(t, "caller"); a != 1 || b != 1 {
		t.Fatalf("effects: k %d, caller %d; want 1 and 1", a, b)
	}
}

// TestRunInBadInput: a nil or finished transaction, a nil store or
// function, a bad key: a clear error, and the function does not run.
func TestRunInBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s, sqlStore := e.store(t, nil), e.sqlStore(t)
	ctx := testContext(t)
	fn := mustNotRun(t)
	var nilPoolTx *pgxpool.Tx
	for name, err := range map[string]error{
		"nil tx":       second(pgstore.RunIn(ctx, s, nil, "k", fn)),
		"typed nil tx": second(pgstore.RunIn(ctx, s, pgx.Tx(nilPoolTx), "k", fn)),
		"nil *sql.Tx": second(pgstore.RunIn(ctx, sqlStore, nil, "k", func(context.Context, *sql.Tx) (string, error) {
			t.Error("the function ran")
			return "", nil
		})),
		"nil store":    second(pgstore.RunIn[pgx.Tx](ctx, nil, begin(t, e.pool), "k", fn)),
		"nil function": second(pgstore.RunIn[pgx.Tx, string](ctx, s, begin(t, e.pool), "k", nil)),
	} {
		if !errors.Is(err, dedupe.ErrInvalidOption) {
			t.Errorf("%s: %v, want ErrInvalidOption", name, err)
		}
	}
	if _, err := pgstore.RunIn(ctx, s, begin(t, e.pool), "", fn); !errors.Is(err, dedupe.ErrInvalidKey) {
		t.Errorf("empty key: %v, want ErrInvalidKey", err)
	}
	done := begin(t, e.pool)
	commit(t, done)
	if _, err := pgstore.RunIn(ctx, s, done, "k", fn); !errors.Is(err, pgx.ErrTxClosed) {
		t.Errorf("committed tx: %v, want pgx.ErrTxClosed", err)
	}
	aborted := begin(t, e.pool)
	_, _ = aborted.Exec(ctx, "SELECT 1/0")
	if _, err := pgstore.RunIn(ctx, s, aborted, "k", fn); pgState(err) != "25P02" {
		t.Errorf("aborted tx: %v, want SQLSTATE 25P02 (in failed transaction)", err)
	}
}

// sqlDB opens a database/sql DB on url, closed at the end of the test.
func sqlDB(t *testing.T, url string) *sql.DB {
	t.Helper()
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// pgState is the SQLSTATE of a PostgreSQL error in err's chain.
func pgState(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code
	}
	return ""
}
