package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/pgstore"
)

// This file is adapters.go and guard.go of -store postgres: the consumers
// keep their keys in the run's PostgreSQL (pgstore, through the fault
// proxy), and each handler writes its effect as a row of effectsTable in
// the transaction that holds its key. The verdict counts those rows.

// effectsTable holds the handlers' effects: one row per effect that
// committed.
const effectsTable = "chaos_effects"

// pgSchema is what the run creates before the workers start: the effects
// table (pgstore's table comes from Store.Migrate).
const pgSchema = `CREATE TABLE IF NOT EXISTS ` + effectsTable + ` (
	id     bigserial   PRIMARY KEY,
	key    text        NOT NULL,
	member text        NOT NULL,
	at     timestamptz NOT NULL DEFAULT clock_timestamp(),
	txid   bigint      NOT NULL DEFAULT txid_current()
)`

// migratePG creates the effects table and pgstore's table on the server at
// url.
func migratePG(ctx context.Context, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, pgSchema); err != nil {
		return fmt.Errorf("chaos: creating %s: %w", effectsTable, err)
	}
	store, err := pgstore.New(pool, "chaos")
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	return store.Migrate(ctx)
}

// consumePG is consume for -store postgres.
func consumePG(ctx context.Context, w workerConfig, j *journal) error {
	pcfg, err := pgxpool.ParseConfig(w.Postgres)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	pcfg.MaxConns = 16
	pcfg.ConnConfig.ConnectTimeout = 5 * time.Second
	pcfg.ConnConfig.RuntimeParams["application_name"] = workerAppPrefix + w.Instance
	pool, err := pgxpool.NewWithConfig(ctx, pcfg)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	defer pool.Close()
	// Rows are keyed by (scope, key): the group names the consumer.
	store, err := pgstore.New(pool, w.Group)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	fx := &pgHandler{j: j, work: w.Work, instance: w.Instance, tx: store.Tx}
	logger := slog.New(slog.DiscardHandler)
	if w.Verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	switch w.Role {
	case roleKafka:
		return runKafkaTx(ctx, w, &recordingTxStore{TxStore: store, j: j}, fx, logger)
	case roleFranz:
		return runFranzTx(ctx, w, &recordingTxStore{TxStore: store, j: j}, fx, logger)
	}
	return runWatermillTx(ctx, w, &recordingTxStore{TxStore: store, j: j, name: wmKey}, fx, logger)
}

// pgHandler is handler for -store postgres: the same journal and work,
// and its effect is a row inserted through the transaction that holds the
// key, so the row commits with the key's record or not at all. The insert
// honours the ctx: a cancelled handler's transaction rolls back.
type pgHandler struct {
	j        *journal
	work     time.Duration
	instance string // the effects' member
	tx       func(ctx context.Context) (pgx.Tx, bool)
}

func (h *pgHandler) handle(ctx context.Context, key string) error {
	if ctx.Err() != nil {
		h.j.write(entry{kind: evStart, key: key}, entry{kind: evDeadStart, key: key})
	} else {
		h.j.log(evStart, key)
	}
	tx, ok := h.tx(ctx)
	if !ok {
		return errors.New("chaos: the handler's ctx carries no transaction")
	}
	if h.work > 0 {
		t := time.NewTimer(h.work + rand.N(h.work+1))
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if _, err := tx.Exec(ctx, "INSERT INTO "+effectsTable+" (key, member) VALUES ($1, $2)", key, h.instance); err != nil {
		return err
	}
	h.j.log(evEffect, key) // written, not committed yet: the rows are the verdict
	return nil
}

// recordingTxStore journals, around the store's RunTx, a claim (C) when the
// function is called (the key's row is this transaction's), the commit (K)
// when RunTx returns the function's own value, and a release (L) when it
// fails after the function was called (rolled back, or the COMMIT's answer
// was lost: the redelivery finds out). It changes nothing the adapters see.
type recordingTxStore struct {
	dedupe.TxStore
	j    *journal
	name func(storeKey string) string // as recordingStore's
}

func (s *recordingTxStore) RunTx(ctx context.Context, key string, fp []byte, fn func(ctx context.Context) ([]byte, error)) (dedupe.TxOutcome, error) {
	k := key
	if s.name != nil {
		k = s.name(key)
	}
	called := false
	out, err := s.TxStore.RunTx(ctx, key, fp, func(ctx context.Context) ([]byte, error) {
		called = true
		s.j.write(entry{kind: evClaim, key: k})
		return fn(ctx)
	})
	switch {
	case err == nil && !out.Duplicate:
		s.j.write(entry{kind: evCommit, key: k})
	case err != nil && called:
		s.j.write(entry{kind: evRelease, key: k})
	}
	return out, err
}

// runKafkaTx is runKafka on the transactional store (Config.TxStore).
func runKafkaTx(ctx context.Context, w workerConfig, store dedupe.TxStore, fx *pgHandler, logger *slog.Logger) error {
	transport := &kafkago.Transport{ClientID: w.Instance}
	defer transport.CloseIdleConnections()
	dlt := &kafkago.Writer{Addr: kafkago.TCP(w.Brokers), Topic: w.DLT, RequiredAcks: kafkago.RequireAll,
		BatchTimeout: time.Millisecond, Transport: transport}
	defer dlt.Close()
	key := idemqkafka.HeaderKey(keyHeader)
	c, err := idemqkafka.NewConsumer(idemqkafka.Config[string]{
		Reader:  readerConfig(w),
		TxStore: store,
		KeyFunc: key,
		Handle: func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
			k, _ := key(m)
			if err := fx.handle(ctx, k); err != nil {
				return err
			}
			end(w.Instance)
			return nil
		},
		OnDuplicate: func(_ context.Context, m kafkago.Message, _ string) error {
			k, _ := key(m)
			fx.j.log(evDuplicate, k)
			return nil
		},
		DeadLetter: dlt,
		Logger:     logger,
	})
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	stop := reportStats(fx.j, func() string { return kafkaStats(c.Stats()) })
	defer stop()
	return c.Run(ctx)
}

// runWatermillTx is runWatermill on the transactional store
// (idemqwatermill.NewTx).
func runWatermillTx(ctx context.Context, w workerConfig, store dedupe.TxStore, fx *pgHandler, logger *slog.Logger) error {
	dedup, err := idemqwatermill.NewTx(store, wmConfig(fx.j, logger))
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	return runRouter(ctx, w, dedup, fx.handle, logger)
}

// effectRow is one row of the effects table.
type effectRow struct {
	member string
	at     time.Time
	txid   int64
}

// readEffects reads the effects table, by key, in commit order (near
// enough: by insert time).
func readEffects(ctx context.Context, url string) (map[string][]effectRow, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("chaos: reading the effects: %w", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT key, member, at, txid FROM "+effectsTable+" ORDER BY at, id")
	if err != nil {
		return nil, fmt.Errorf("chaos: reading the effects: %w", err)
	}
	out := map[string][]effectRow{}
	for rows.Next() {
		var k string
		var e effectRow
		if err := rows.Scan(&k, &e.member, &e.at, &e.txid); err != nil {
			return nil, fmt.Errorf("chaos: reading the effects: %w", err)
		}
		out[k] = append(out[k], e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("chaos: reading the effects: %w", err)
	}
	return out, nil
}

// describeRows is the evidence of a key's effect rows: who wrote each,
// when (since t0), in which transaction.
func describeRows(rows []effectRow, t0 time.Time) string {
	var parts []string
	for _, e := range rows {
		parts = append(parts, fmt.Sprintf("%s+%s (txid %d)", e.member, seconds(e.at.Sub(t0)), e.txid))
	}
	return strings.Join(parts, ", ")
}
