package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
)

// PostgresURL returns the URL of the PostgreSQL that `make services`
// starts (IDEMQ_POSTGRES_URL), or skips the test (fails it under
// IDEMQ_REQUIRE_SERVICES=1) when there is none. Tests isolate themselves
// with tables of their own (PostgresEffects).
func PostgresURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("IDEMQ_POSTGRES_URL")
	if url == "" {
		Missing(t, "PostgreSQL", "IDEMQ_POSTGRES_URL", "the variable is unset")
	}
	return url
}

// PostgresEffects returns a pool on the test PostgreSQL, closed at the end
// of the test, and the name of an effects table of the test's own
// (key text), dropped at the end together with the store table name +
// "_keys".
func PostgresEffects(t testing.TB) (*pgxpool.Pool, string) {
	t.Helper()
	pool, err := pgxpool.New(context.Background(), PostgresURL(t))
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(pool.Close)
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "effects_" + hex.EncodeToString(b[:])
	if _, err := pool.Exec(context.Background(), "CREATE TABLE "+name+" (key text NOT NULL)"); err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+name+", "+name+"_keys") })
	return pool, name
}
