package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idemq/idemq/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestRun runs the example against the real PostgreSQL and checks what it
// prints: placed once, then a duplicate, and one order row.
func TestRun(t *testing.T) {
	url := testenv.PostgresURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var b [6]byte
	_, _ = rand.Read(b[:])
	table := "example_" + hex.EncodeToString(b[:])
	t.Cleanup(func() {
		pool, err := pgxpool.New(context.Background(), url)
		if err != nil {
			return
		}
		defer pool.Close()
		_, _ = pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+table+", "+table+"_keys")
	})
	out := testenv.Stdout(t, func() error { return run(ctx, url, table) })
	if want := "placed order-1\nduplicate: already done as order-1\norders in the database: 1\n"; out != want {
		t.Errorf("the example printed %q, want %q", out, want)
	}
}
