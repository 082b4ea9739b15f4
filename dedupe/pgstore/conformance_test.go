package pgstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/dedupetest"
	"github.com/idemq/idemq/dedupe/pgstore"
	"github.com/idemq/idemq/internal/testenv"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
)

// TestConformance runs the transactional stores' suite on the real
// PostgreSQL, for each client pgstore takes.
func TestConformance(t *testing.T) {
	t.Parallel()
	t.Run("pgx", func(t *testing.T) {
		t.Parallel()
		dedupetest.RunTx(t, func(t *testing.T) dedupetest.TxHarness { return harness(t, pgxClient) })
	})
	t.Run("database/sql", func(t *testing.T) {
		t.Parallel()
		dedupetest.RunTx(t, func(t *testing.T) dedupetest.TxHarness { return harness(t, sqlClient) })
	})
}

// client is one of the database clients pgstore takes, T its transaction.
type client[T any] struct {
	name string
	// open connects to dsn (at most maxConns connections) and returns a
	// constructor of stores on that pool, and its closer.
	open     func(ctx context.Context, dsn string) (newStore func(opts ...pgstore.Option) (*pgstore.Store[T], error), close func(), err error)
	exec     func(ctx context.Context, tx T, query string, args ...any) error
	queryRow func(ctx context.Context, tx T, query string, args []any, dest ...any) error
}

// maxConns bounds each pool the harness opens: the server is shared.
const maxConns = 10

var pgxClient = client[pgx.Tx]{
	name: "pgx",
	open: func(ctx context.Context, dsn string) (func(...pgstore.Option) (*pgstore.Store[pgx.Tx], error), func(), error) {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			return nil, nil, err
		}
		cfg.MaxConns = maxConns
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			return nil, nil, err
		}
		return func(opts ...pgstore.Option) (*pgstore.Store[pgx.Tx], error) {
			return pgstore.New(pool, "test-consumer", opts...)
		}, pool.Close, nil
	},
	exec: func(ctx context.Context, tx pgx.Tx, query string, args ...any) error {
		_, err := tx.Exec(ctx, query, args...)
		return err
	},
	queryRow: func(ctx context.Context, tx pgx.Tx, query string, args []any, dest ...any) error {
		return tx.QueryRow(ctx, query, args...).Scan(dest...)
	},
}

var sqlClient = client[*sql.Tx]{
	name: "database/sql",
	open: func(ctx context.Context, dsn string) (func(...pgstore.Option) (*pgstore.Store[*sql.Tx], error), func(), error) {
		cfg, err := pgx.ParseConfig(dsn)
		if err != nil {
			return nil, nil, err
		}
		db := stdlib.OpenDB(*cfg)
		db.SetMaxOpenConns(maxConns)
		return func(opts ...pgstore.Option) (*pgstore.Store[*sql.Tx], error) {
			return pgstore.NewSQL(db, "test-consumer", opts...)
		}, func() { _ = db.Close() }, nil
	},
	exec: func(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
		_, err := tx.ExecContext(ctx, query, args...)
		return err
	},
	queryRow: func(ctx context.Context, tx *sql.Tx, query string, args []any, dest ...any) error {
		return tx.QueryRowContext(ctx, query, args...).Scan(dest...)
	},
}

// harness returns the suite's hooks on c, for a store table and an
// effects table (key bytea: keys are any bytes) of the test's own.
func harness[T any](t *testing.T, c client[T]) dedupetest.TxHarness {
	e := newEnv(t)
	effects := e.effects + "_bytea" // not e.effects (key text): keys are any bytes
	if _, err := e.pool.Exec(testContext(t), "CREATE TABLE "+effects+" (key bytea NOT NULL, run text NOT NULL)"); err != nil {
		t.Fatalf("creating the effects table: %v", err)
	}
	t.Cleanup(func() { _, _ = e.pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+effects) })
	newStore := c.connect(t, e.url)
	base := c.store(t, newStore, pgstore.WithTable(e.table))
	if err := base.Migrate(testContext(t)); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	// The cleanup has connections of its own, as a janitor beside the
	// consumers would: it does not queue behind claims for the pool's.
	janitor := c.store(t, c.connect(t, e.url), pgstore.WithTable(e.table))
	return dedupetest.TxHarness{
		Store: func(t *testing.T, o dedupetest.TxStoreOptions) dedupe.TxStore {
			opts := []pgstore.Option{pgstore.WithTable(e.table)}
			if o.TTL > 0 {
				opts = append(opts, pgstore.WithTTL(o.TTL))
			}
			if o.LockTimeout > 0 {
				opts = append(opts, pgstore.WithLockTimeout(o.LockTimeout))
			}
			return c.store(t, newStore, opts...)
		},
		Effect:      c.effect(base, effects),
		Effects:     func(t *testing.T, key string) []string { return e.runs(t, effects, key) },
		Waiters:     func(ctx context.Context) (int, error) { return e.waiters(ctx) },
		KillSession: c.killSession(base, e.pool),
		Cut: func(t *testing.T) (dedupe.TxStore, func(dedupetest.CutPoint)) {
			proxy, proxied := proxiedURL(t, e.url)
			return c.store(t, c.connect(t, proxied), pgstore.WithTable(e.table)), func(at dedupetest.CutPoint) {
				reply := map[dedupetest.CutPoint]string{
					dedupetest.CutAtCommit:     "COMMIT\x00",   // the server committed
					dedupetest.CutBeforeCommit: "UPDATE 1\x00", // the value's UPDATE, the statement before COMMIT
				}[at]
				proxy.DropReply(func(b []byte) bool { return bytes.Contains(b, []byte(reply)) })
			}
		},
		Cleanup: func(ctx context.Context) (int64, error) { return janitor.DeleteExpired(ctx, 2) },
		Process: func(t *testing.T, key string) *exec.Cmd {
			spec, err := json.Marshal(holdSpec{Client: c.name, URL: e.url, Table: e.table, Effects: effects, Key: key})
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0])
			cmd.Env = append(os.Environ(), holdEnv+"="+string(spec))
			return cmd
		},
	}
}

// connect opens c on dsn for the rest of the test.
func (c client[T]) connect(t *testing.T, dsn string) func(...pgstore.Option) (*pgstore.Store[T], error) {
	t.Helper()
	newStore, closeDB, err := c.open(testContext(t), dsn)
	if err != nil {
		t.Fatalf("connecting with %s: %v", c.name, err)
	}
	t.Cleanup(closeDB)
	return newStore
}

func (c client[T]) store(t *testing.T, newStore func(...pgstore.Option) (*pgstore.Store[T], error), opts ...pgstore.Option) *pgstore.Store[T] {
	t.Helper()
	s, err := newStore(opts...)
	if err != nil {
		t.Fatalf("pgstore: %v", err)
	}
	return s
}

// effect writes an effect row in the RunTx transaction of ctx.
func (c client[T]) effect(s *pgstore.Store[T], effects string) func(ctx context.Context, key, run string) error {
	return func(ctx context.Context, key, run string) error {
		tx, ok := s.Tx(ctx)
		if !ok {
			return errors.New("no transaction in the RunTx function's ctx")
		}
		return c.exec(ctx, tx, "INSERT INTO "+effects+" (key, run) VALUES ($1, $2)", []byte(key), run)
	}
}

// killSession finds the backend of the RunTx transaction of ctx, to be
// terminated from the pool.
func (c client[T]) killSession(s *pgstore.Store[T], pool *pgxpool.Pool) func(ctx context.Context) (func(context.Context) error, error) {
	return func(ctx context.Context) (func(context.Context) error, error) {
		tx, ok := s.Tx(ctx)
		if !ok {
			return nil, errors.New("no transaction in the RunTx function's ctx")
		}
		var pid int
		if err := c.queryRow(ctx, tx, "SELECT pg_backend_pid()", nil, &pid); err != nil {
			return nil, err
		}
		return func(ctx context.Context) error {
			var ok bool
			if err := pool.QueryRow(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&ok); err != nil || !ok {
				return fmt.Errorf("pg_terminate_backend(%d) = %v, %v", pid, ok, err)
			}
			return nil
		}, nil
	}
}

// runs returns the committed runs of key in effects.
func (e *pgEnv) runs(t *testing.T, effects, key string) []string {
	t.Helper()
	rows, err := e.pool.Query(testContext(t), "SELECT run FROM "+effects+" WHERE key = $1", []byte(key))
	if err != nil {
		t.Fatalf("reading effects: %v", err)
	}
	runs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatalf("reading effects: %v", err)
	}
	return runs
}

// waiters counts the sessions that wait for a lock in a statement on the
// env's store table: Runs waiting for a key's row.
func (e *pgEnv) waiters(ctx context.Context) (int, error) {
	var n int
	err := e.pool.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND position($1 in query) > 0", e.table).Scan(&n)
	return n, err
}

// proxiedURL starts a fault proxy to url's server and returns it with url
// pointed at it.
func proxiedURL(t *testing.T, rawURL string) (*testenv.Proxy, string) {
	t.Helper()
	cfg, err := pgx.ParseConfig(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := testenv.NewProxy(t, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	u.Host = proxy.Addr()
	return proxy, u.String()
}

// holdEnv carries a holdSpec to the test binary started by the suite's
// Process hook: TestMain then holds a key until it is killed.
const holdEnv = "IDEMQ_PGSTORE_HOLD"

type holdSpec struct{ Client, URL, Table, Effects, Key string }

// holdKey is the holding process: it runs dedupetest.HoldKey and returns
// the exit code.
func holdKey(spec string) int {
	var s holdSpec
	err := json.Unmarshal([]byte(spec), &s)
	if err == nil {
		switch s.Client {
		case pgxClient.name:
			err = hold(pgxClient, s)
		case sqlClient.name:
			err = hold(sqlClient, s)
		default:
			err = fmt.Errorf("unknown client %q", s.Client)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "holding process:", err)
		return 1
	}
	return 0
}

func hold[T any](c client[T], s holdSpec) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	newStore, closeDB, err := c.open(ctx, s.URL)
	if err != nil {
		return err
	}
	defer closeDB()
	store, err := newStore(pgstore.WithTable(s.Table))
	if err != nil {
		return err
	}
	return dedupetest.HoldKey(ctx, store, s.Key, c.effect(store, s.Effects), os.Stdout)
}
