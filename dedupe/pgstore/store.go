package pgstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Store keeps the records of one scope in one table. T is the transaction
// type a Run's function gets: pgx.Tx (New) or *sql.Tx (NewSQL). A Store is
// safe for concurrent use; it owns no connection (the pool or DB is the
// caller's to close).
type Store[T any] struct {
	db    driver[T]
	scope string
	cfg   config
	sql   statements
}

// statements are a Store's SQL, with its table name in place.
type statements struct{ timeouts, claim, end, deleteExpired string }

// New returns a Store on a pgx pool for scope: the name of the consumer
// that deduplicates (a group, a handler), part of every row's key.
func New(pool *pgxpool.Pool, scope string, opts ...Option) (*Store[pgx.Tx], error) {
	if pool == nil {
		return nil, fmt.Errorf("%w: pgstore.New needs a pool", dedupe.ErrInvalidOption)
	}
	return newStore[pgx.Tx](pgxDriver{pool}, scope, opts)
}

// NewSQL returns a Store on a database/sql DB of PostgreSQL (pgx's stdlib
// driver, lib/pq) for scope; see New.
func NewSQL(db *sql.DB, scope string, opts ...Option) (*Store[*sql.Tx], error) {
	if db == nil {
		return nil, fmt.Errorf("%w: pgstore.NewSQL needs a *sql.DB", dedupe.ErrInvalidOption)
	}
	return newStore[*sql.Tx](sqlDriver{db}, scope, opts)
}

func newStore[T any](db driver[T], scope string, opts []Option) (*Store[T], error) {
	if scope == "" {
		return nil, fmt.Errorf("%w: pgstore: the scope must not be empty: it names the consumer", dedupe.ErrInvalidOption)
	}
	cfg := config{table: DefaultTable, ttl: dedupe.DefaultTTL, lockTimeout: DefaultLockTimeout,
		idleTimeout: DefaultIdleTimeout, codec: dedupe.JSONCodec{}}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	if cfg.err != nil {
		return nil, cfg.err
	}
	s := &Store[T]{db: db, scope: scope, cfg: cfg}
	s.sql = statements{
		timeouts:      fmt.Sprintf(timeoutsSQL, millis(cfg.lockTimeout), millis(cfg.idleTimeout)),
		claim:         fmt.Sprintf(claimSQL, cfg.table),
		end:           fmt.Sprintf(endSQL, cfg.table),
		deleteExpired: fmt.Sprintf(deleteExpiredSQL, cfg.table),
	}
	if cfg.lockTimeout == 0 && cfg.idleTimeout == 0 {
		s.sql.timeouts = "" // the server's settings stand
	}
	return s, nil
}

// Migrate creates the Store's table and its expiry index if they do not
// exist (Schema shows the DDL, for those who apply it by hand).
func (s *Store[T]) Migrate(ctx context.Context) error {
	if _, err := s.db.exec(ctx, Schema(s.cfg.table)); err != nil {
		return fmt.Errorf("pgstore: creating table %s: %w", s.cfg.table, err)
	}
	return nil
}

// DeleteExpired deletes expired rows, at most batch (default 1000 when <= 0)
// per statement, each statement a transaction of its own, until fewer than
// batch are left or ctx ends; rows a running transaction holds are
// skipped. It returns how many it deleted. Call it from a timer: it never
// runs one large DELETE.
func (s *Store[T]) DeleteExpired(ctx context.Context, batch int) (int64, error) {
	if batch <= 0 {
		batch = 1000
	}
	var total int64
	for {
		n, err := s.db.exec(ctx, s.sql.deleteExpired, batch)
		total += n
		switch {
		case err != nil:
			return total, fmt.Errorf("pgstore: deleting expired rows: %w", err)
		case n < int64(batch):
			return total, nil
		}
	}
}

// millis formats d for set_config: whole milliseconds.
func millis(d time.Duration) string { return fmt.Sprintf("%dms", d.Milliseconds()) }

var (
	_ dedupe.TxStore = (*Store[pgx.Tx])(nil)
	_ dedupe.TxStore = (*Store[*sql.Tx])(nil)
)
