package main

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
)

// floorKeysSchema is the dedupe table of the PostgreSQL floor: the key and
// the consumer it is deduplicated for, nothing else.
func floorKeysSchema(table string) string {
	return "CREATE TABLE " + table + " (scope text NOT NULL, key text NOT NULL, PRIMARY KEY (scope, key))"
}

// pgFloorRun is the floor of the PostgreSQL store: rawGroupRun's loop that,
// per message, runs one transaction of its own (BEGIN, `INSERT ... ON
// CONFLICT DO NOTHING` of the key's dedupe row, the effect row's INSERT when
// the key was new, COMMIT) before the message counts; offsets are committed
// as rawGroupRun commits them. Timed from before the join to the last
// message's COMMIT.
func pgFloorRun(ctx context.Context, env *services, rr rowRound) (timed, error) {
	pool, err := rr.pg.roundPool(ctx, env.opts.partitions)
	if err != nil {
		return timed{}, err
	}
	defer pool.Close()
	f := &pgFloor{pool: pool, scope: rr.row,
		claim:  "INSERT INTO " + rr.tables.keys + " (scope, key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
		effect: "INSERT INTO " + rr.tables.effects + " (key) VALUES ($1)"}
	return groupRun(ctx, env, rr, env.kafka.fresh, f.handle)
}

// pgFloor is the per-message transaction of pgFloorRun.
type pgFloor struct {
	pool          *pgxpool.Pool
	scope         string
	claim, effect string
}

var floorKey = idemqkafka.HeaderKey(keyHeader)

func (f *pgFloor) handle(ctx context.Context, m kafkago.Message) error {
	key, err := floorKey(m)
	if err != nil {
		return err
	}
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }() // none after Commit
	tag, err := tx.Exec(ctx, f.claim, f.scope, key)
	if err != nil {
		return fmt.Errorf("postgres: the dedupe row: %w", err)
	}
	if tag.RowsAffected() == 1 { // a new key: the effect
		if _, err := tx.Exec(ctx, f.effect, key); err != nil {
			return fmt.Errorf("postgres: the effect: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("postgres: commit: %w", err)
	}
	return nil
}
