package kafkatest

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/pgstore"
	"github.com/idemq/idemq/internal/testenv"
)

var outcomeScenarios = map[string]scenario{
	"Processed":      processed,
	"Optimistic":     optimistic,
	"TxStore":        txStoreEffectsOnce,
	"CommitBatching": commitBatching,
}

// processed: a fresh key runs the handler once and is committed; a
// duplicate (same key, new offset, another partition) does not run the
// handler, OnDuplicate gets the winner's value, and its offset is committed
// too: the group's lag ends at 0. On Redis and on Valkey (native SET
// ... IFEQ).
func processed(t *testing.T, d Driver) {
	for name, srv := range map[string]func(testing.TB) testenv.RedisServer{"Redis": testenv.Redis, "Valkey": testenv.Valkey} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			processedOn(t, setupOn(t, d, srv(t), 4))
		})
	}
}

func processedOn(t *testing.T, e *env) {
	const unique, dups = 200, 50
	var handled, dupCalls counts
	var winners values
	cfg := e.config()
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
		handled.add(m.Header(keyHeader))
		end("done-" + string(m.Value))
		return nil
	}
	cfg.OnDuplicate = func(ctx context.Context, m Message, winner string) error {
		dupCalls.add(m.Header(keyHeader))
		winners.set(m.Header(keyHeader), winner)
		return nil
	}
	var msgs []Message
	for i := range unique {
		msgs = append(msgs, msg(i%4, key(i), "first-"+key(i)))
	}
	e.produce(t, msgs...)
	c := e.start(t, cfg)
	Eventually(t, time.Minute, "every fresh key handled", func() bool { return handled.len() == unique })
	msgs = msgs[:0]
	for i := range dups {
		msgs = append(msgs, msg((i+1)%4, key(i), "again-"+key(i)))
	}
	e.produce(t, msgs...)
	e.LagZero(t, time.Minute)

	for i := range unique {
		if got := handled.get(key(i)); got != 1 {
			t.Errorf("handler ran %d times for %s, want 1", got, key(i))
		}
	}
	for i := range dups {
		if got := dupCalls.get(key(i)); got != 1 {
			t.Errorf("OnDuplicate ran %d times for %s, want 1", got, key(i))
		}
		if want := "done-first-" + key(i); winners.get(key(i)) != want {
			t.Errorf("OnDuplicate for %s got winner %q, want %q", key(i), winners.get(key(i)), want)
		}
	}
	// The broker takes a commit before the adapter counts it: stop the
	// consumer so that every commit it made is counted.
	if err := c.Stop(t); err != nil {
		t.Fatal(err)
	}
	s := c.Stats()
	if s.Processed != unique || s.Duplicates != dups || s.DeadLettered != 0 || s.Assignments != 4 {
		t.Errorf("Stats = %+v, want Processed %d, Duplicates %d, DeadLettered 0, Assignments 4", s, unique, dups)
	}
	if s.OffsetCommits == 0 || s.GuardRoundTrips == 0 {
		t.Errorf("Stats = %+v, want OffsetCommits and GuardRoundTrips > 0", s)
	}
}

// optimistic: the optimistic mode keeps the outcomes: fresh keys run once,
// duplicates (here in one process, which single-flights a key) do not run,
// and every offset is committed.
func optimistic(t *testing.T, d Driver) {
	e := setup(t, d, 2)
	var handled counts
	cfg := e.config()
	cfg.Guard = consumer.Guard{Optimistic: true} // no claim: no lease
	cfg.Ordering = consumer.Unordered
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
		handled.add(m.Header(keyHeader))
		time.Sleep(time.Millisecond) // the work
		end("ok")
		return nil
	}
	var msgs []Message
	for i := range 100 {
		msgs = append(msgs, msg(0, key(i%60), "v"))
	}
	e.produce(t, msgs...)
	c := e.start(t, cfg)
	e.LagZero(t, time.Minute)
	for i := range 60 {
		if n := handled.get(key(i)); n != 1 {
			t.Errorf("%s handled %d times, want 1", key(i), n)
		}
	}
	if s := c.Stats(); s.Processed != 60 || s.Duplicates != 40 {
		t.Errorf("Stats = %+v, want Processed 60, Duplicates 40", s)
	}
}

// txStoreEffectsOnce: on a transactional store (PostgreSQL) every key's
// effect row commits exactly once with its dedupe record: a failed first
// attempt is rolled back (its effect row with it) and retried, duplicates
// on other partitions get the committed value without running, and every
// offset is committed.
func txStoreEffectsOnce(t *testing.T, d Driver) {
	e := setup(t, d, 4)
	pool, effects := testenv.PostgresEffects(t)
	store, err := pgstore.New(pool, e.Group, pgstore.WithTable(effects+"_keys"))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	const unique, dups = 200, 50
	var attempts, dupCalls counts
	var winners values
	cfg := e.config()
	cfg.Store, cfg.Guard, cfg.TxStore = nil, consumer.Guard{}, store
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
		k := m.Header(keyHeader)
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
	cfg.OnDuplicate = func(ctx context.Context, m Message, winner string) error {
		dupCalls.add(m.Header(keyHeader))
		winners.set(m.Header(keyHeader), winner)
		return nil
	}
	var msgs []Message
	for i := range unique {
		msgs = append(msgs, msg(i%4, key(i), "first-"+key(i)))
	}
	e.produce(t, msgs...)
	c := e.start(t, cfg)
	Eventually(t, time.Minute, "every fresh key handled", func() bool { return c.Stats().Processed == unique })
	msgs = msgs[:0]
	for i := range dups {
		msgs = append(msgs, msg((i+1)%4, key(i), "again-"+key(i)))
	}
	e.produce(t, msgs...)
	e.LagZero(t, time.Minute)

	rows, err := pool.Query(context.Background(), "SELECT key, count(*) FROM "+effects+" GROUP BY key")
	if err != nil {
		t.Fatal(err)
	}
	type keyCount struct {
		key string
		n   int
	}
	perKey, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kc keyCount, err error) {
		err = r.Scan(&kc.key, &kc.n)
		return kc, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(perKey) != unique {
		t.Errorf("%d keys have committed effects, want %d", len(perKey), unique)
	}
	for _, kc := range perKey {
		if kc.n != 1 {
			t.Errorf("%s has %d committed effects, want 1", kc.key, kc.n)
		}
	}
	for i := range dups {
		if got := dupCalls.get(key(i)); got != 1 {
			t.Errorf("OnDuplicate ran %d times for %s, want 1", got, key(i))
		}
		if want := "done-first-" + key(i); winners.get(key(i)) != want {
			t.Errorf("OnDuplicate for %s got %q, want %q", key(i), winners.get(key(i)), want)
		}
	}
	if s := c.Stats(); s.Processed != unique || s.Duplicates != dups || s.Retries != unique/10 || s.DeadLettered != 0 {
		t.Errorf("Stats = %+v, want Processed %d, Duplicates %d, Retries %d, DeadLettered 0", s, unique, dups, unique/10)
	}
}

// commitBatching: offsets are committed in batches: every CommitEvery
// finished messages (here the interval never fires), and once more when
// Run returns.
func commitBatching(t *testing.T, d Driver) {
	e := setup(t, d, 1)
	var handled counts
	cfg := e.config()
	cfg.CommitEvery = 100
	cfg.CommitInterval = time.Hour
	cfg.Handle = func(ctx context.Context, m Message, end dedupe.End[string]) error {
		handled.add(m.Header(keyHeader))
		end("ok")
		return nil
	}
	var msgs []Message
	for i := range 250 {
		msgs = append(msgs, msg(0, key(i), "v"))
	}
	e.produce(t, msgs...)
	r := e.start(t, cfg)
	Eventually(t, time.Minute, "a commit after 100 messages", func() bool { return e.Committed(t)[0] >= 100 })
	Eventually(t, time.Minute, "every message handled", func() bool { return handled.len() == 250 })
	if err := r.Stop(t); err != nil {
		t.Fatal(err)
	}
	if got := e.Committed(t)[0]; got != 250 {
		t.Errorf("committed offset after Run returned = %d, want 250", got)
	}
	if n := r.Stats().OffsetCommits; n < 1 || n > 3 {
		t.Errorf("OffsetCommits = %d, want 1..3 for 250 messages in batches of 100 plus the last", n)
	}
}
