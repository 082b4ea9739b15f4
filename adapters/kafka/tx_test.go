package idemqkafka_test

import (
	"context"
	"errors"
	"github.com/idemq/idemq/consumer"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/pgstore"
	"github.com/idemq/idemq/internal/testenv"
)

// TestTxStoreEffectsOnce: on a transactional store (PostgreSQL) every key's
// effect row commits exactly once with its dedupe record: a failed first
// attempt is rolled back (its effect row with it) and retried, duplicates
// on other partitions get the committed value without running, and every
// offset is committed.
func TestTxStoreEffectsOnce(t *testing.T) {
	t.Parallel()
	e := setup(t, 4)
	pool, effects := testenv.PostgresEffects(t)
	store, err := pgstore.New(pool, e.group, pgstore.WithTable(effects+"_keys"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	const unique, dups = 200, 50
	var attempts, dupCalls counts
	var mu sync.Mutex
	winners := map[string]string{}
	cfg := e.config()
	cfg.Store, cfg.Guard, cfg.TxStore = nil, consumer.Guard{}, store
	cfg.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
		k, _ := idemqkafka.HeaderKey("Idempotency-Key")(m)
		tx, ok := store.Tx(ctx)
		if !ok {
			return errors.New("no transaction in the handler's ctx")
		}
		if _, err := tx.Exec(ctx, "INSERT INTO "+effects+" (key) VALUES ($1)", k); err != nil {
			return err
		}
		if attempts.add(k) == 1 && strings.HasSuffix(k, "0") {
			return errors.New("the first attempt fails after its write") // rolled back
		}
		end("done-" + string(m.Value))
		return nil
	}
	cfg.OnDuplicate = func(ctx context.Context, m kafkago.Message, winner string) error {
		k, _ := idemqkafka.HeaderKey("Idempotency-Key")(m)
		dupCalls.add(k)
		mu.Lock()
		defer mu.Unlock()
		winners[k] = winner
		return nil
	}
	c, err := idemqkafka.NewConsumer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []kafkago.Message
	for i := range unique {
		msgs = append(msgs, msg(key(i), "first-"+key(i)))
	}
	e.produce(t, msgs...)
	start(t, c)
	eventually(t, time.Minute, "every fresh key handled", func() bool { return c.Stats().Processed == unique })
	msgs = msgs[:0]
	for i := range dups {
		msgs = append(msgs, msg(key(i), "again-"+key(i)))
	}
	e.produce(t, msgs...)
	eventually(t, time.Minute, "lag 0", func() bool { return e.lag(t) == 0 })

	rows, err := pool.Query(context.Background(), "SELECT key, count(*) FROM "+effects+" GROUP BY key")
	if err != nil {
		t.Fatal(err)
	}
	perKey, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]any, error) {
		var k string
		var n int
		err := r.Scan(&k, &n)
		return [2]any{k, n}, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(perKey) != unique {
		t.Errorf("%d keys have committed effects, want %d", len(perKey), unique)
	}
	for _, kn := range perKey {
		if kn[1].(int) != 1 {
			t.Errorf("%s has %d committed effects, want 1", kn[0], kn[1])
		}
	}
	for i := range dups {
		if got := dupCalls.get(key(i)); got != 1 {
			t.Errorf("OnDuplicate ran %d times for %s, want 1", got, key(i))
		}
		if want := "done-first-" + key(i); winners[key(i)] != want {
			t.Errorf("OnDuplicate for %s got %q, want %q", key(i), winners[key(i)], want)
		}
	}
	if s := c.Stats(); s.Processed != unique || s.Duplicates != dups || s.Retries != unique/10 || s.DeadLettered != 0 {
		t.Errorf("Stats = %+v, want Processed %d, Duplicates %d, Retries %d, DeadLettered 0", s, unique, dups, unique/10)
	}
}
