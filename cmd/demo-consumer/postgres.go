package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idemq/idemq/dedupe/pgstore"
)

// With -postgres the demo adds a third consumer, idemq's Kafka adapter on
// the PostgreSQL store, whose handler writes its effect as a row in the
// transaction that holds the key; and the crash cuts every connection of
// the victim, its store's included. idemq on Redis then shows its
// documented window (an effect done before the crash, whose commit never
// reached Redis, is done again once the key's lease runs out), while on
// PostgreSQL the crash rolls the effect back with the key's row, and the
// redelivery does it once.

// memberConns bounds each member's PostgreSQL connections: it runs one
// transaction per partition it holds at a time.
const memberConns = 8

// pgTables are a run's PostgreSQL tables.
type pgTables struct {
	effects string // the handlers' effect rows
	keys    string // pgstore's table
}

func newPGTables(run string) pgTables {
	base := "idemq_demo_" + run
	return pgTables{effects: base + "_effects", keys: base + "_keys"}
}

// openPostgres connects the run's own pool to the server at url.
func (e *env) openPostgres(ctx context.Context, url string) error {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("demo: -postgres: %w", err)
	}
	c := cfg.ConnConfig
	e.pgDesc = fmt.Sprintf("%s@%s:%d/%s", c.User, c.Host, c.Port, c.Database)
	e.pgConfig = cfg
	if e.pg, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return fmt.Errorf("demo: -postgres: %w", err)
	}
	e.closers = append(e.closers, e.pg.Close)
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := e.pg.Ping(ctx); err != nil {
		return fmt.Errorf("demo: PostgreSQL at %s does not answer: %w", e.pgDesc, err)
	}
	return nil
}

// memberPool returns member m's own pool, as a separate process would
// have, dialling through m's kill switch: the crash ends its sessions, and
// with them its open transactions.
func (ph *phase) memberPool(ctx context.Context, m *member) (*pgxpool.Pool, error) {
	cfg := ph.env.pgConfig.Copy()
	cfg.MaxConns = memberConns
	cfg.ConnConfig.DialFunc = m.ks.DialContext
	cfg.ConnConfig.RuntimeParams["application_name"] = fmt.Sprintf("demo-%s-%d", ph.slug, m.id)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	return pool, nil
}

// createTables creates the run's effects table and pgstore's table (with
// the store's Migrate), when the run has a PostgreSQL.
func (e *env) createTables(ctx context.Context, t pgTables) error {
	if e.pg == nil {
		return nil
	}
	if _, err := e.pg.Exec(ctx, "CREATE TABLE "+t.effects+" (id bigserial PRIMARY KEY, key text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp())"); err != nil {
		return fmt.Errorf("demo: creating %s: %w", t.effects, err)
	}
	store, err := pgstore.New(e.pg, "demo", pgstore.WithTable(t.keys))
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return store.Migrate(ctx)
}

// dropTables removes the run's tables (errors ignored: it is cleanup).
func (e *env) dropTables(ctx context.Context, t pgTables) {
	if e.pg != nil {
		_, _ = e.pg.Exec(ctx, "DROP TABLE IF EXISTS "+t.effects+", "+t.keys)
	}
}

// pgLedger is the effects table: one row per effect, inserted through the
// transaction of the pgstore run that holds the key, so that it commits
// with the key's record or rolls back with it.
type pgLedger struct {
	pool  *pgxpool.Pool // the run's own: counting
	table string
	tx    func(ctx context.Context) (pgx.Tx, bool) // the key's transaction, from the handler's ctx
}

func (l pgLedger) add(ctx context.Context, key string) error {
	tx, ok := l.tx(ctx)
	if !ok {
		return errors.New("demo: the handler's ctx carries no transaction")
	}
	if _, err := tx.Exec(ctx, "INSERT INTO "+l.table+" (key) VALUES ($1)", key); err != nil {
		return fmt.Errorf("demo: effect row for %s: %w", key, err)
	}
	return nil
}

func (l pgLedger) entries(ctx context.Context) (map[string]int64, error) {
	rows, err := l.pool.Query(ctx, "SELECT key, count(*) FROM "+l.table+" GROUP BY key")
	if err != nil {
		return nil, fmt.Errorf("demo: reading %s: %w", l.table, err)
	}
	counts := map[string]int64{}
	var key string
	var n int64
	_, err = pgx.ForEachRow(rows, []any{&key, &n}, func() error {
		counts[key] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("demo: reading %s: %w", l.table, err)
	}
	return counts, nil
}

// postgresPhases adds idemq on Redis and idemq on PostgreSQL to phases
// (the plain one, with -compare), and makes the crash of every phase cut
// all the victim's connections.
func postgresPhases(cfg config, e *env, n names, phases []*phase) ([]*phase, error) {
	onRedis := newPhase(cfg, e, n, "idemq (Redis)", "idemq", &idemqFlavour{})
	onRedis.window = true
	onPG := newPhase(cfg, e, n, "idemq (PostgreSQL)", "postgres", &idemqFlavour{pgTable: n.tables.keys})
	// The ledger finds each handler's transaction with Store.Tx, which
	// reads it from the handler's ctx whichever Store of the scope ran it:
	// the members run theirs on pools of their own.
	store, err := pgstore.New(e.pg, onPG.group, pgstore.WithTable(n.tables.keys))
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	onPG.ledger = pgLedger{pool: e.pg, table: n.tables.effects, tx: store.Tx}
	phases = append(phases, onRedis, onPG)
	for _, ph := range phases {
		ph.cutStore = true
	}
	return phases, nil
}
