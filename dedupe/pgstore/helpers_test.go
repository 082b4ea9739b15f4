package pgstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe/pgstore"
	"github.com/idemq/idemq/internal/testenv"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
)

// testContext is bounded: a test that hangs fails instead.
func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pgEnv is one test's tables on the shared PostgreSQL: the store's table and
// an effects table the test's functions write to.
type pgEnv struct {
	url     string
	pool    *pgxpool.Pool
	table   string // the store's
	effects string // effects(key text, n int): one row per effect
}

func newEnv(t testing.TB) *pgEnv {
	t.Helper()
	url := testenv.PostgresURL(t)
	pool := newPool(t, url)
	var b [6]byte
	_, _ = rand.Read(b[:])
	suffix := hex.EncodeToString(b[:])
	e := &pgEnv{url: url, pool: pool, table: "keys_" + suffix, effects: "effects_" + suffix}
	ctx := testContext(t)
	if _, err := pool.Exec(ctx, "CREATE TABLE "+e.effects+" (key text NOT NULL, run text)"); err != nil {
		t.Fatalf("creating the effects table: %v", err)
	}
	t.Cleanup(func() {
		_, _ = pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+e.effects+", "+e.table)
	})
	return e
}

func newPool(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(testContext(t), url)
	if err != nil {
		t.Fatalf("pgxpool.New: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// store returns a migrated Store on the env's pool (or on pool, if given).
func (e *pgEnv) store(t *testing.T, pool *pgxpool.Pool, opts ...pgstore.Option) *pgstore.Store[pgx.Tx] {
	t.Helper()
	if pool == nil {
		pool = e.pool
	}
	s, err := pgstore.New(pool, "test-consumer", append([]pgstore.Option{pgstore.WithTable(e.table)}, opts...)...)
	if err != nil {
		t.Fatalf("pgstore.New: %v", err)
	}
	if err := s.Migrate(testContext(t)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// sqlStore returns a migrated Store on database/sql (pgx's stdlib driver).
func (e *pgEnv) sqlStore(t *testing.T) *pgstore.Store[*sql.Tx] {
	t.Helper()
	db, err := sql.Open("pgx", e.url)
	if err != nil {
		t.Fatalf("sql.Open: %v", err)
	}
	t.Cleanup(func() { _ = db.Close() })
	s, err := pgstore.NewSQL(db, "test-consumer", pgstore.WithTable(e.table))
	if err != nil {
		t.Fatalf("pgstore.NewSQL: %v", err)
	}
	if err := s.Migrate(testContext(t)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

// effect writes one effect row for key in tx (pgx).
func (e *pgEnv) effect(ctx context.Context, tx pgx.Tx, key, run string) error {
	_, err := tx.Exec(ctx, "INSERT INTO "+e.effects+" (key, run) VALUES ($1, $2)", key, run)
	return err
}

// effectsOf counts the committed effect rows of key.
func (e *pgEnv) effectsOf(t *testing.T, key string) int {
	t.Helper()
	var n int
	if err := e.pool.QueryRow(testContext(t), "SELECT count(*) FROM "+e.effects+" WHERE key = $1", key).Scan(&n); err != nil {
		t.Fatalf("counting effects: %v", err)
	}
	return n
}
