package pgstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// driver is what a Store needs of a database client: transactions whose
// type T is what the user's function gets.
type driver[T any] interface {
	begin(ctx context.Context) (T, txn, error)
	join(tx T) txn                                                      // a transaction the caller began
	exec(ctx context.Context, query string, args ...any) (int64, error) // outside a transaction
}

// txn is one transaction of a driver.
type txn interface {
	exec(ctx context.Context, query string, args ...any) error
	queryRow(ctx context.Context, query string, args []any, dest ...any) error
	// pipeline runs stmts in order and stops at the first that fails; it
	// returns how many succeeded. pgx sends them in one round trip.
	pipeline(ctx context.Context, stmts ...stmt) (int, error)
	commit(ctx context.Context) error
	rollback(ctx context.Context) error
}

// stmt is one statement of a pipeline.
type stmt struct {
	sql  string
	args []any
	dest []any // its one row is scanned into dest; nil: executed
}

// pgxDriver is driver on a pgx pool.
type pgxDriver struct{ pool *pgxpool.Pool }

func (d pgxDriver) begin(ctx context.Context) (pgx.Tx, txn, error) {
	tx, err := d.pool.Begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	return tx, pgxTxn{tx}, nil
}

func (pgxDriver) join(tx pgx.Tx) txn { return pgxTxn{tx} }

func (d pgxDriver) exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := d.pool.Exec(ctx, query, args...)
	return tag.RowsAffected(), err
}

type pgxTxn struct{ tx pgx.Tx }

func (t pgxTxn) exec(ctx context.Context, query string, args ...any) error {
	_, err := t.tx.Exec(ctx, query, args...)
	return err
}

func (t pgxTxn) queryRow(ctx context.Context, query string, args []any, dest ...any) error {
	return t.tx.QueryRow(ctx, query, args...).Scan(dest...)
}

func (t pgxTxn) pipeline(ctx context.Context, stmts ...stmt) (ran int, err error) {
	var b pgx.Batch
	for _, st := range stmts {
		b.Queue(st.sql, st.args...)
	}
	br := t.tx.SendBatch(ctx, &b)
	defer func() {
		if cerr := br.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	for _, st := range stmts {
		if st.dest != nil {
			err = br.QueryRow().Scan(st.dest...)
		} else {
			_, err = br.Exec()
		}
		if err != nil {
			return ran, err
		}
		ran++
	}
	return ran, nil
}

func (t pgxTxn) commit(ctx context.Context) error   { return t.tx.Commit(ctx) }
func (t pgxTxn) rollback(ctx context.Context) error { return t.tx.Rollback(ctx) }

// sqlDriver is driver on database/sql.
type sqlDriver struct{ db *sql.DB }

func (d sqlDriver) begin(ctx context.Context) (*sql.Tx, txn, error) {
	// The transaction's own context stays alive after ctx ends, so that
	// Run decides between COMMIT and ROLLBACK itself: database/sql rolls a
	// transaction back by itself when its BeginTx context is cancelled.
	tx, err := d.db.BeginTx(context.WithoutCancel(ctx), nil)
	if err != nil {
		return nil, nil, err
	}
	return tx, sqlTxn{tx}, nil
}

func (sqlDriver) join(tx *sql.Tx) txn { return sqlTxn{tx} }

func (d sqlDriver) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := d.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

type sqlTxn struct{ tx *sql.Tx }

func (t sqlTxn) exec(ctx context.Context, query string, args ...any) error {
	_, err := t.tx.ExecContext(ctx, query, args...)
	return err
}

func (t sqlTxn) queryRow(ctx context.Context, query string, args []any, dest ...any) error {
	return t.tx.QueryRowContext(ctx, query, args...).Scan(dest...)
}

func (t sqlTxn) pipeline(ctx context.Context, stmts ...stmt) (int, error) {
	for i, st := range stmts {
		var err error
		if st.dest != nil {
			err = t.queryRow(ctx, st.sql, st.args, st.dest...)
		} else {
			err = t.exec(ctx, st.sql, st.args...)
		}
		if err != nil {
			return i, err
		}
	}
	return len(stmts), nil
}

func (t sqlTxn) commit(context.Context) error   { return t.tx.Commit() }
func (t sqlTxn) rollback(context.Context) error { return t.tx.Rollback() }

// sqlState returns the SQLSTATE of a PostgreSQL error ("" for any other
// error): from pgx directly, or from a driver error that exposes it.
func sqlState(err error) string {
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		return pg.Code
	}
	var coded interface{ SQLState() string }
	if errors.As(err, &coded) {
		return coded.SQLState()
	}
	return ""
}

// SQLSTATEs Run tells apart.
const (
	lockNotAvailable = "55P03" // lock_timeout: another transaction holds the key's row
)
