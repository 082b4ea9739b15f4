package pgstore_test

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/idemq/idemq/dedupe/pgstore"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// BenchmarkMessages measures one message (an op: ns/op is per message),
// each an effect INSERT and its dedupe row on a fresh key, on one
// connection:
//
//	per-message/Run     one transaction per message: pgstore.Run
//	per-message/floor   the same by hand: BEGIN, INSERT key ON CONFLICT DO NOTHING, effect, COMMIT
//	per-message/Run-8-conns  Run from 8 goroutines on 8 connections (as 8 partitions):
//	                    their COMMITs share WAL flushes (group commit)
//	batch=N/RunIn       N messages per transaction, pgstore.RunIn for each (a savepoint each)
//	batch=N/floor       the same by hand: SAVEPOINT, INSERT key ON CONFLICT DO NOTHING, effect, RELEASE
//
// round-trips/msg counts the client's writes to the server, commits/msg
// is the delta of pg_stat_database.xact_commit and WAL-B/msg that of
// pg_current_wal_lsn(), all per message; the last two are the whole
// server's: run it on a PostgreSQL of its own for figures that mean
// something.
func BenchmarkMessages(b *testing.B) {
	b.Run("per-message/Run", func(b *testing.B) {
		benchMessages(b, 1, func(ctx context.Context, e *benchEnv, _ pgx.Tx, k string) error {
			_, err := pgstore.Run(ctx, e.store, k, e.effectOf(k))
			return err
		})
	})
	b.Run("per-message/floor", func(b *testing.B) {
		benchMessages(b, 1, func(ctx context.Context, e *benchEnv, _ pgx.Tx, k string) error {
			return pgx.BeginFunc(ctx, e.pool, func(tx pgx.Tx) error { return e.floor(ctx, tx, k) })
		})
	})
	b.Run("per-message/Run-8-conns", func(b *testing.B) {
		benchParallel(b, 8, func(ctx context.Context, e *benchEnv, k string) error {
			_, err := pgstore.Run(ctx, e.store, k, e.effectOf(k))
			return err
		})
	})
	for _, n := range []int{8, 32, 128} {
		b.Run(fmt.Sprintf("batch=%d/RunIn", n), func(b *testing.B) {
			benchMessages(b, n, func(ctx context.Context, e *benchEnv, tx pgx.Tx, k string) error {
				_, err := pgstore.RunIn(ctx, e.store, tx, k, e.effectOf(k))
				return err
			})
		})
		b.Run(fmt.Sprintf("batch=%d/floor", n), func(b *testing.B) {
			benchMessages(b, n, func(ctx context.Context, e *benchEnv, tx pgx.Tx, k string) error {
				return savepoint(ctx, tx, func() error { return e.floor(ctx, tx, k) })
			})
		})
	}
}

// benchEnv is a benchmark's tables and its pool of one connection.
type benchEnv struct {
	*pgEnv
	pool   *pgxpool.Pool
	store  *pgstore.Store[pgx.Tx]
	writes atomic.Int64 // the client's writes to the server: its round trips
}

// messageFunc handles message k: in tx for a batch, on its own with
// batch 1 (tx nil).
type messageFunc func(ctx context.Context, e *benchEnv, tx pgx.Tx, k string) error

// benchMessages runs msg for fresh keys, batch messages per transaction
// (batch 1: msg begins its own), and reports commits and WAL bytes per
// message.
func benchMessages(b *testing.B, batch int, msg messageFunc) {
	e := newMessagesEnv(b, 1)
	ctx := context.Background()
	pgCounters(b, e.pool) // prepares its statement: that counts as a transaction once
	own := pgCounters(b, e.pool)
	before := pgCounters(b, e.pool)
	writes := e.writes.Load()
	own.commits = before.commits - own.commits // those of pgCounters itself
	var tx pgx.Tx
	msgs := 0
	for ; b.Loop(); msgs++ {
		var err error
		if batch > 1 && tx == nil {
			if tx, err = e.pool.Begin(ctx); err != nil {
				b.Fatal(err)
			}
		}
		if err := msg(ctx, e, tx, strconv.Itoa(msgs)); err != nil {
			b.Fatal(err)
		}
		if tx != nil && (msgs+1)%batch == 0 {
			err, tx = tx.Commit(ctx), nil
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	if tx != nil {
		if err := tx.Commit(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(e.writes.Load()-writes)/float64(msgs), "round-trips/msg")
	after := pgCounters(b, e.pool)
	b.ReportMetric(float64(after.commits-before.commits-own.commits)/float64(msgs), "commits/msg")
	b.ReportMetric(float64(walBytes(b, e.pool, before, after))/float64(msgs), "WAL-B/msg")
}

// benchParallel runs msg for fresh keys from conns goroutines, each
// message in a transaction of its own, and reports WAL bytes per message
// (each message commits once; the statistics of conns sessions are not
// flushed at once, so commits are not counted).
func benchParallel(b *testing.B, conns int32, msg func(ctx context.Context, e *benchEnv, k string) error) {
	e := newMessagesEnv(b, conns)
	ctx := context.Background()
	before := pgCounters(b, e.pool)
	writes := e.writes.Load()
	var next atomic.Int64
	procs := int32(runtime.GOMAXPROCS(0))
	b.SetParallelism(int((conns + procs - 1) / procs))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := msg(ctx, e, strconv.FormatInt(next.Add(1), 10)); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(e.writes.Load()-writes)/float64(next.Load()), "round-trips/msg")
	after := pgCounters(b, e.pool)
	b.ReportMetric(float64(walBytes(b, e.pool, before, after))/float64(next.Load()), "WAL-B/msg")
}

// walBytes is the WAL written between two counters.
func walBytes(b *testing.B, pool *pgxpool.Pool, before, after counters) int64 {
	var wal int64
	err := pool.QueryRow(context.Background(), "SELECT pg_wal_lsn_diff($1::pg_lsn, $2::pg_lsn)::bigint", after.lsn, before.lsn).Scan(&wal)
	if err != nil {
		b.Fatal(err)
	}
	return wal
}

// newMessagesEnv makes the tables of a BenchmarkMessages run and a pool
// of conns connections on them (1: the server-side counters see one
// session).
func newMessagesEnv(b *testing.B, conns int32) *benchEnv {
	b.Helper()
	e := &benchEnv{pgEnv: newEnv(b)}
	cfg, err := pgxpool.ParseConfig(e.url)
	if err != nil {
		b.Fatal(err)
	}
	cfg.MaxConns = conns
	dial := cfg.ConnConfig.DialFunc
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		return countingConn{c, &e.writes}, err
	}
	if e.pool, err = pgxpool.NewWithConfig(context.Background(), cfg); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(e.pool.Close)
	if e.store, err = pgstore.New(e.pool, "bench", pgstore.WithTable(e.table)); err != nil {
		b.Fatal(err)
	}
	if err := e.store.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	// the floor's dedupe table, beside the store's
	if _, err := e.pool.Exec(context.Background(), "CREATE TABLE "+e.table+"_floor (key text PRIMARY KEY)"); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _, _ = e.pgEnv.pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+e.table+"_floor") })
	return e
}

// countingConn counts the writes of a connection: each is a round trip,
// as pgx writes a statement, or a batch, at once and waits for its answer.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// effectOf is the idemq message's function: the effect INSERT.
func (e *benchEnv) effectOf(k string) pgstore.Func[pgx.Tx, string] {
	return func(ctx context.Context, tx pgx.Tx) (string, error) {
		_, err := tx.Exec(ctx, "INSERT INTO "+e.effects+" (key, run) VALUES ($1, '')", k)
		return k, err
	}
}

// floor is the hand-written message: the dedupe row, then the effect
// unless the key was there.
func (e *benchEnv) floor(ctx context.Context, tx pgx.Tx, k string) error {
	tag, err := tx.Exec(ctx, "INSERT INTO "+e.table+"_floor (key) VALUES ($1) ON CONFLICT DO NOTHING", k)
	if err != nil || tag.RowsAffected() == 0 {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO "+e.effects+" (key, run) VALUES ($1, '')", k)
	return err
}

// savepoint runs fn in a savepoint of tx: released after it, rolled back
// to if it fails.
func savepoint(ctx context.Context, tx pgx.Tx, fn func() error) error {
	if _, err := tx.Exec(ctx, "SAVEPOINT m"); err != nil {
		return err
	}
	if err := fn(); err != nil {
		_, _ = tx.Exec(ctx, "ROLLBACK TO SAVEPOINT m")
		return err
	}
	_, err := tx.Exec(ctx, "RELEASE SAVEPOINT m")
	return err
}

// counters are the server's commit count and WAL position.
type counters struct {
	commits int64
	lsn     string
}

// pgCounters reads the database's xact_commit, after flushing the
// session's pending statistics, and the WAL position.
func pgCounters(b *testing.B, pool *pgxpool.Pool) counters {
	b.Helper()
	ctx := context.Background()
	if _, err := pool.Exec(ctx, "SELECT pg_stat_force_next_flush()"); err != nil {
		b.Fatal(err)
	}
	var c counters
	err := pool.QueryRow(ctx, `SELECT xact_commit, pg_current_wal_lsn()::text
		FROM pg_stat_database WHERE datname = current_database()`).Scan(&c.commits, &c.lsn)
	if err != nil {
		b.Fatal(err)
	}
	return c
}
