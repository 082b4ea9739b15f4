package pgstore_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/pgstore"
	"github.com/jackc/pgx/v5"
)

// TestDatabaseSQL: Run on database/sql: the function gets the *sql.Tx, and
// a duplicate's value decodes into its ConflictError (TestConformance runs
// the rest on both clients).
func TestDatabaseSQL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.sqlStore(t)
	ctx := testContext(t)
	effect := func(ctx context.Context, tx *sql.Tx, run string) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO "+e.effects+" (key, run) VALUES ('k', $1)", run)
		return err
	}
	boom := errors.New("boom")
	if _, err := pgstore.Run(ctx, s, "k", func(ctx context.Context, tx *sql.Tx) (string, error) {
		if err := effect(ctx, tx, "failed"); err != nil {
			return "", err
		}
		return "", boom
	}); !errors.Is(err, boom) {
		t.Fatalf("failing Run = %v, want boom", err)
	}
	if got, err := pgstore.Run(ctx, s, "k", func(ctx context.Context, tx *sql.Tx) (string, error) {
		return "first", effect(ctx, tx, "first")
	}); err != nil || got != "first" {
		t.Fatalf("Run = %q, %v", got, err)
	}
	var conflict *dedupe.ConflictError[string]
	if _, err := pgstore.Run(ctx, s, "k", func(ctx context.Context, tx *sql.Tx) (string, error) {
		return "again", effect(ctx, tx, "again")
	}); !errors.As(err, &conflict) || conflict.Value != "first" {
		t.Fatalf("duplicate = %v, want a conflict with %q", err, "first")
	}
	if n := e.effectsOf(t, "k"); n != 1 {
		t.Fatalf("effects = %d, want 1", n)
	}
}

// TestBadInput: every mistake is a clear error, and nothing runs.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testContext(t)
	for name, err := range map[string]error{
		"nil pool":    second(pgstore.New(nil, "scope")),
		"nil db":      second(pgstore.NewSQL(nil, "scope")),
		"empty scope": second(pgstore.New(e.pool, "")),
		"bad table":   second(pgstore.New(e.pool, "scope", pgstore.WithTable("keys; DROP TABLE x"))),
		"zero TTL":    second(pgstore.New(e.pool, "scope", pgstore.WithTTL(0))),
		"nil codec":   second(pgstore.New(e.pool, "scope", pgstore.WithCodec(nil))),
	} {
		if !errors.Is(err, dedupe.ErrInvalidOption) {
			t.Errorf("%s: %v, want ErrInvalidOption", name, err)
		}
	}
	s := e.store(t, nil)
	fn := func(ctx context.Context, tx pgx.Tx) (int, error) {
		t.Error("fn ran")
		return 0, nil
	}
	if _, err := pgstore.Run(ctx, s, "", fn); !errors.Is(err, dedupe.ErrInvalidKey) {
		t.Errorf("empty key: %v, want ErrInvalidKey", err)
	}
	if _, err := pgstore.Run[pgx.Tx, int](ctx, nil, "k", fn); !errors.Is(err, dedupe.ErrInvalidOption) {
		t.Errorf("nil store: %v, want ErrInvalidOption", err)
	}
	if _, err := pgstore.Run[pgx.Tx, int](ctx, s, "k", nil); !errors.Is(err, dedupe.ErrInvalidOption) {
		t.Errorf("nil function: %v, want ErrInvalidOption", err)
	}
}

func second[T any](_ T, err error) error { return err }

// nilCodec encodes every value as no bytes at all.
type nilCodec struct{}

func (nilCodec) Encode(any) ([]byte, error) { return nil, nil }
func (nilCodec) Decode([]byte, any) error   { return nil }

// TestEmptyValueIsCommitted: a value that encodes to no bytes still marks
// the key committed: the next Run is a duplicate.
func TestEmptyValueIsCommitted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.store(t, nil, pgstore.WithCodec(nilCodec{}))
	ctx := testContext(t)
	for i := range 2 {
		_, err := pgstore.Run(ctx, s, "k", func(ctx context.Context, tx pgx.Tx) (string, error) {
			return "", e.effect(ctx, tx, "k", "")
		})
		if want := i == 1; errors.Is(err, dedupe.ErrConflict) != want || i == 0 && err != nil {
			t.Fatalf("Run %d = %v, want a conflict %v", i, err, want)
		}
	}
	if n := e.effectsOf(t, "k"); n != 1 {
		t.Fatalf("effects = %d, want 1", n)
	}
}

// TestRunTx: the dedupe.TxStore seam the adapters use: fn finds the
// transaction in its ctx, and a duplicate gets the stored bytes.
func TestRunTx(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.store(t, nil)
	ctx := testContext(t)
	fn := func(ctx context.Context) ([]byte, error) {
		tx, ok := s.Tx(ctx)
		if !ok {
			return nil, errors.New("no transaction in ctx")
		}
		return []byte(`"done"`), e.effect(ctx, tx, "k", "")
	}
	for i, want := range []dedupe.TxOutcome{{Value: []byte(`"done"`)}, {Value: []byte(`"done"`), Duplicate: true}} {
		got, err := s.RunTx(ctx, "k", nil, fn)
		if err != nil || string(got.Value) != string(want.Value) || got.Duplicate != want.Duplicate {
			t.Fatalf("RunTx %d = %+v, %v; want %+v", i, got, err, want)
		}
	}
	if _, ok := s.Tx(ctx); ok {
		t.Error("Tx outside RunTx found a transaction")
	}
	if n := e.effectsOf(t, "k"); n != 1 {
		t.Fatalf("effects = %d, want 1", n)
	}
}
