package pgstore_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/idemq/idemq/dedupe/pgstore"
	"github.com/jackc/pgx/v5"
)

// BenchmarkFloor is the hand-written per-message transaction that Run is
// measured against: the effect INSERT and an INSERT ... ON CONFLICT DO
// NOTHING of the dedupe row, in one transaction, on fresh keys.
func BenchmarkFloor(b *testing.B) {
	e := newBenchEnv(b)
	ctx := context.Background()
	if _, err := e.pool.Exec(ctx, "CREATE TABLE "+e.table+" (key text PRIMARY KEY)"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := strconv.Itoa(i)
		err := pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error {
			tag, err := tx.Exec(ctx, "INSERT INTO "+e.table+" (key) VALUES ($1) ON CONFLICT DO NOTHING", k)
			if err != nil || tag.RowsAffected() == 0 {
				return err
			}
			_, err = tx.Exec(ctx, "INSERT INTO "+e.effects+" (key, run) VALUES ($1, '')", k)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRun is pgstore.Run with the same effect, on fresh keys.
func BenchmarkRun(b *testing.B) {
	e := newBenchEnv(b)
	s, err := pgstore.New(e.pool, "bench", pgstore.WithTable(e.table))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if err := s.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		k := strconv.Itoa(i)
		_, err := pgstore.Run(ctx, s, k, func(ctx context.Context, tx pgx.Tx) (string, error) {
			_, err := tx.Exec(ctx, "INSERT INTO "+e.effects+" (key, run) VALUES ($1, '')", k)
			return k, err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// newBenchEnv is newEnv for a benchmark.
func newBenchEnv(b *testing.B) *pgEnv {
	b.Helper()
	return newEnv(b)
}
