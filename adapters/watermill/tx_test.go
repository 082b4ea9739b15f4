package idemqwatermill_test

import (
	"context"
	"errors"
	"github.com/idemq/idemq/consumer"
	"testing"

	wmessage "github.com/ThreeDotsLabs/watermill/message"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/dedupe/pgstore"
	"github.com/idemq/idemq/internal/testenv"
)

// TestTxStore: on a transactional store the handler's write and its
// outputs commit together: a failed handler leaves nothing (its write rolled
// back), the next delivery runs and commits, and a duplicate gets the
// stored outputs without running.
func TestTxStore(t *testing.T) {
	t.Parallel()
	pool, effects := testenv.PostgresEffects(t)
	store, err := pgstore.New(pool, "watermill-test", pgstore.WithTable(effects+"_keys"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	d, err := idemqwatermill.NewTx(store, idemqwatermill.Config{Scope: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	fail := true
	calls := 0
	h := d.Middleware(func(msg *wmessage.Message) ([]*wmessage.Message, error) {
		calls++
		tx, ok := store.Tx(msg.Context())
		if !ok {
			return nil, errors.New("no transaction in the message's context")
		}
		if _, err := tx.Exec(msg.Context(), "INSERT INTO "+effects+" (key) VALUES ('k1')"); err != nil {
			return nil, err
		}
		if fail {
			fail = false
			return nil, errors.New("the first delivery fails after its write")
		}
		return []*wmessage.Message{output("out-1", "k1", "done")}, nil
	})
	if _, err := h(newMsg("k1", "a")); err == nil {
		t.Fatal("the failing delivery returned nil")
	}
	if n := countEffects(t, pool, effects); n != 0 {
		t.Fatalf("effects after a failed delivery = %d, want 0 (rolled back)", n)
	}
	first, err := h(newMsg("k1", "a"))
	if err != nil || len(first) != 1 || first[0].UUID != "out-1" {
		t.Fatalf("second delivery = %v, %v; want its output", first, err)
	}
	dup := newMsg("k1", "a")
	again, err := h(dup)
	if err != nil || !sameMessages(again, first) {
		t.Fatalf("duplicate = %v, %v; want the stored outputs %v", again, err, first)
	}
	if dup.Metadata.Get(idemqwatermill.DuplicateMetadataKey) != "true" {
		t.Error("the duplicate is not flagged")
	}
	if n := countEffects(t, pool, effects); n != 1 || calls != 2 {
		t.Fatalf("effects = %d, handler calls = %d; want 1 and 2", n, calls)
	}
	if s := d.Stats(); s.Processed != 1 || s.Duplicates != 1 {
		t.Errorf("Stats = %+v, want Processed 1, Duplicates 1", s)
	}
}

// TestNewTxRejectsInvalidConfig: a nil store, a typed nil and settings
// that do not apply to a transactional store are *ConfigErrors.
func TestNewTxRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	pool, err := pgxpool.New(context.Background(), "postgres://nobody@127.0.0.1:1/none")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store, err := pgstore.New(pool, "scope")
	if err != nil {
		t.Fatal(err)
	}
	for name, newTx := range map[string]func() error{
		"nil": func() error { return second(idemqwatermill.NewTx(nil, idemqwatermill.Config{})) },
		"typed nil": func() error {
			return second(idemqwatermill.NewTx((*pgstore.Store[pgx.Tx])(nil), idemqwatermill.Config{}))
		},
		"TTL": func() error {
			return second(idemqwatermill.NewTx(store, idemqwatermill.Config{Guard: consumer.Guard{TTL: 1}}))
		},
		"Optimistic": func() error {
			return second(idemqwatermill.NewTx(store, idemqwatermill.Config{Guard: consumer.Guard{Optimistic: true}}))
		},
	} {
		err := newTx()
		var cfgErr *consumer.ConfigError
		if !errors.As(err, &cfgErr) || !errors.Is(err, consumer.ErrInvalidConfig) {
			t.Errorf("%s: NewTx = %v, want a *ConfigError", name, err)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func countEffects(t *testing.T, pool *pgxpool.Pool, table string) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
