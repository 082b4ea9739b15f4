package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgServer is the PostgreSQL of IDEMQ_POSTGRES_URL. Every table of the run
// starts with prefix; each round creates its own and drops them afterwards.
type pgServer struct {
	url     string
	admin   *pgxpool.Pool // the measurements and the DDL, application_name name+"-admin"
	name    string        // application_name of the rounds' pools
	prefix  string        // of every table of the run; deleted at the end
	version string        // versionSQL's, e.g. "PostgreSQL 15.18 (Debian 15.18-0+deb12u1), synchronous_commit on, ..."
	dials   atomic.Int64  // connections we opened
}

// pgTables are one round's tables: the effect rows, and the dedupe rows (the
// floor's or pgstore's).
type pgTables struct{ effects, keys string }

// effectsSchema is the table of the effects both rows write, one row per
// message, as adapters/kafka's tx tests do.
const effectsSchema = "CREATE TABLE %s (key text NOT NULL)"

// versionSQL names the server and the settings that decide what a commit costs.
const versionSQL = `SELECT 'PostgreSQL ' || current_setting('server_version') || ', synchronous_commit ' ||
	current_setting('synchronous_commit') || ', fsync ' || current_setting('fsync') ||
	', full_page_writes ' || current_setting('full_page_writes') || ', wal_level ' || current_setting('wal_level')`

func dialPostgres(ctx context.Context, runID string) (*pgServer, error) {
	urls, err := addrsFromEnv("IDEMQ_POSTGRES_URL")
	if err != nil {
		return nil, err
	}
	_, suffix, _ := strings.Cut(runID, "-")
	p := &pgServer{url: urls[0], name: "idemqbench-" + runID, prefix: "idemqbench_" + suffix + "_"}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if p.admin, err = p.pool(ctx, p.name+"-admin", 2); err == nil {
		err = p.admin.QueryRow(ctx, versionSQL).Scan(&p.version)
	}
	if err != nil {
		if p.admin != nil {
			p.admin.Close()
		}
		return nil, fmt.Errorf("postgres at %s (IDEMQ_POSTGRES_URL): %w; is `make services` running?", p.url, err)
	}
	return p, nil
}

// pool opens a pool of at most size connections named name (application_name),
// counting the connections it opens.
func (p *pgServer) pool(ctx context.Context, name string, size int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(p.url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = int32(size)
	cfg.ConnConfig.RuntimeParams["application_name"] = name
	cfg.AfterConnect = func(context.Context, *pgx.Conn) error { p.dials.Add(1); return nil }
	return pgxpool.NewWithConfig(ctx, cfg)
}

// roundPool is the pool a round's consumer writes through: one connection
// per partition, as many as the transactions that run at once. The round
// closes it; measure then waits for its sessions to end (waitSessions).
func (p *pgServer) roundPool(ctx context.Context, partitions int) (*pgxpool.Pool, error) {
	return p.pool(ctx, p.name, partitions)
}

// roundTables names a round's tables: the row's name, e.g. idemq_postgres
// for kafka/idemq-postgres, and the round under the run's prefix.
func (p *pgServer) roundTables(row string, round int) pgTables {
	short := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			return r
		}
		return '_'
	}, strings.TrimPrefix(row, "kafka/"))
	base := p.prefix + short + "_" + strconv.Itoa(round)
	return pgTables{effects: base + "_effects", keys: base + "_keys"}
}

// createTables creates a round's effects table, and its dedupe table with
// the row's DDL (keysSchema).
func (p *pgServer) createTables(ctx context.Context, t pgTables, keysSchema func(table string) string) error {
	if err := p.ddl(ctx, fmt.Sprintf(effectsSchema, t.effects)+";\n"+keysSchema(t.keys)); err != nil {
		return fmt.Errorf("postgres: creating %s and %s: %w", t.effects, t.keys, err)
	}
	return nil
}

// checkEffects fails unless the round wrote one effect row per message.
func (p *pgServer) checkEffects(ctx context.Context, t pgTables, messages int) error {
	var n int
	if err := p.admin.QueryRow(ctx, "SELECT count(*) FROM "+t.effects).Scan(&n); err != nil {
		return fmt.Errorf("postgres: counting %s: %w", t.effects, err)
	}
	if n != messages {
		return fmt.Errorf("postgres: %d effect rows for %d messages", n, messages)
	}
	return nil
}

// dropTables drops a round's tables.
func (p *pgServer) dropTables(ctx context.Context, t pgTables) error {
	return p.ddl(ctx, "DROP TABLE IF EXISTS "+t.effects+", "+t.keys)
}

// ddl runs statements in a transaction that waits at most 10s for a lock: the
// tables of a round that is still writing (abandoned after its deadline) are
// left to close.
func (p *pgServer) ddl(ctx context.Context, statements string) error {
	return pgx.BeginFunc(ctx, p.admin, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '10s';\n"+statements)
		return err
	})
}

// waitSessions ends the sessions of the rounds' pools that are still there
// (a closed pool's sessions are exiting already) and waits, at most 10s, for
// each to be gone: a session flushes its statistics when it exits, so the
// commits of the round are all counted after this.
func (p *pgServer) waitSessions(ctx context.Context) error {
	rows, err := p.admin.Query(ctx, `SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity
WHERE application_name = $1`, p.name)
	if err == nil {
		rows.Close() // false (with a warning) for a session that was gone already
		err = rows.Err()
	}
	var left int
	if err == nil {
		err = p.admin.QueryRow(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", p.name).Scan(&left)
	}
	switch {
	case err != nil:
		return fmt.Errorf("postgres: ending the round's sessions: %w", err)
	case left > 0:
		return fmt.Errorf("postgres: %d sessions of the round still there after 10s", left)
	}
	return nil
}

// close drops every table of the run (those a failed round left too) and
// closes the pool.
func (p *pgServer) close(ctx context.Context) error {
	defer p.admin.Close()
	rows, err := p.admin.Query(ctx, `SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables
WHERE starts_with(tablename, $1)`, p.prefix)
	if err != nil {
		return fmt.Errorf("postgres: listing the run's tables: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err == nil && len(tables) > 0 {
		err = p.ddl(ctx, "DROP TABLE IF EXISTS "+strings.Join(tables, ", "))
	}
	if err != nil {
		return fmt.Errorf("postgres: dropping the run's tables: %w", err)
	}
	return nil
}
