package main

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/pgstore"
)

// idemqPostgresRun consumes the fresh topic with an idemq consumer on the
// PostgreSQL store (Config.TxStore, a pgstore.Store with the row's name as
// its scope, on the round's keys table) with default settings: a handler
// that inserts the effect row through the store's transaction and calls
// end(struct{}{}). Timed as idemqRun: from Run to the last handler call.
func idemqPostgresRun(ctx context.Context, env *services, rr rowRound) (timed, error) {
	k := env.kafka
	pool, err := rr.pg.roundPool(ctx, env.opts.partitions)
	if err != nil {
		return timed{}, err
	}
	defer pool.Close()
	store, err := pgstore.New(pool, rr.row, pgstore.WithTable(rr.tables.keys))
	if err != nil {
		return timed{}, err
	}
	effect := "INSERT INTO " + rr.tables.effects + " (key) VALUES ($1)"
	keyOf := idemqkafka.HeaderKey(keyHeader)
	out := &outcomes{want: int64(k.fresh.messages), done: make(chan struct{})}
	c, err := idemqkafka.NewConsumer(idemqkafka.Config[struct{}]{
		Reader:  k.readerConfig(k.fresh.name, k.group(rr.row, rr.round)),
		TxStore: store,
		KeyFunc: keyOf,
		Handle: func(ctx context.Context, m kafkago.Message, end dedupe.End[struct{}]) error {
			if err := insertEffect(ctx, store.Tx, effect, keyOf, m); err != nil {
				return err
			}
			end(struct{}{})
			out.add()
			return nil
		},
		OnDuplicate: func(context.Context, kafkago.Message, struct{}) error { out.add(); return nil },
	})
	if err != nil {
		return timed{}, err
	}
	return runConsumer(ctx, c, out, k.fresh.messages)
}

// insertEffect writes m's effect row through the transaction in ctx.
func insertEffect(ctx context.Context, txOf func(context.Context) (pgx.Tx, bool), effect string,
	keyOf idemqkafka.KeyFunc, m kafkago.Message) error {
	tx, ok := txOf(ctx)
	if !ok {
		return errors.New("bench: the handler's ctx carries no transaction")
	}
	key, err := keyOf(m)
	if err == nil {
		_, err = tx.Exec(ctx, effect, key)
	}
	return err
}
