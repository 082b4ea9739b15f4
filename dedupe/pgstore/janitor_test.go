package pgstore_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/pgstore"
	"github.com/jackc/pgx/v5"
)

// janitor is one RunJanitor in its own goroutine, with its sweeps
// reported on a channel.
type janitor struct {
	sweeps chan sweep
	cancel context.CancelFunc
	done   chan janitorResult
}

type sweep struct {
	deleted int64
	err     error
}

type janitorResult struct {
	total int64
	err   error
}

// startJanitor runs s.RunJanitor with cfg until stop or the end of the
// test.
func startJanitor(t *testing.T, s *pgstore.Store[pgx.Tx], cfg pgstore.JanitorConfig) *janitor {
	t.Helper()
	ctx, cancel := context.WithCancel(testContext(t))
	j := &janitor{sweeps: make(chan sweep), cancel: cancel, done: make(chan janitorResult, 1)}
	cfg.SweptFunc = func(n int64, err error) {
		select {
		case j.sweeps <- sweep{n, err}:
		case <-ctx.Done():
		}
	}
	go func() {
		total, err := s.RunJanitor(ctx, cfg)
		j.done <- janitorResult{total, err}
	}()
	t.Cleanup(func() { j.stop(t) })
	return j
}

// stop cancels the janitor and returns what it returned; it fails the
// test if the janitor does not stop.
func (j *janitor) stop(t *testing.T) janitorResult {
	t.Helper()
	j.cancel()
	select {
	case r := <-j.done:
		j.done <- r // for the next stop
		return r
	case <-time.After(10 * time.Second):
		t.Fatal("RunJanitor did not return after its ctx was cancelled")
		return janitorResult{}
	}
}

// next waits for the janitor's next sweep.
func (j *janitor) next(t *testing.T) sweep {
	t.Helper()
	select {
	case s := <-j.sweeps:
		return s
	case <-testContext(t).Done():
		t.Fatal("no sweep")
		return sweep{}
	}
}

// insertExpired inserts n committed rows that expired an hour ago.
func (e *pgEnv) insertExpired(t *testing.T, prefix string, n int) {
	t.Helper()
	_, err := e.pool.Exec(testContext(t), "INSERT INTO "+e.table+` (scope, key, value, expires_at)
		SELECT 'test-consumer', convert_to($1 || i, 'UTF8'), '""', now() - interval '1 hour' FROM generate_series(1, $2) i`, prefix, n)
	if err != nil {
		t.Fatalf("inserting expired rows: %v", err)
	}
}

// TestJanitorDeletesExpiredRowsAndStops: the janitor deletes the expired
// rows at once and those that expire later at a next sweep, in batches;
// it leaves live rows alone, and returns its total when its ctx ends.
func TestJanitorDeletesExpiredRowsAndStops(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.store(t, nil)
	ctx := testContext(t)
	for _, key := range []string{"live-1", "live-2"} {
		if _, err := pgstore.Run(ctx, s, key, e.effectFunc(key, "")); err != nil {
			t.Fatal(err)
		}
	}
	e.insertExpired(t, "old-", 5)
	j := startJanitor(t, s, pgstore.JanitorConfig{Interval: 20 * time.Millisecond, Batch: 2})
	if got := j.next(t); got.err != nil || got.deleted != 5 {
		t.Fatalf("first sweep = %+v, want 5 deleted", got)
	}
	e.insertExpired(t, "later-", 3)
	var later int64
	for later < 3 {
		got := j.next(t)
		if got.err != nil {
			t.Fatalf("sweep = %+v", got)
		}
		later += got.deleted
	}
	if later != 3 {
		t.Fatalf("later sweeps deleted %d, want 3", later)
	}
	if r := j.stop(t); r.err != nil || r.total != 8 {
		t.Fatalf("RunJanitor = %d, %v; want 8, nil", r.total, r.err)
	}
	rows, err := e.pool.Query(ctx, "SELECT convert_from(key, 'UTF8') FROM "+e.table+" ORDER BY key")
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || strings.Join(keys, ",") != "live-1,live-2" {
		t.Fatalf("rows left = %v, %v; want the live ones", keys, err)
	}
}

// TestJanitorLogsFailuresAndGoesOn: a sweep that fails (here, a table
// that does not exist) is logged and reported, and the janitor sweeps
// again at the next interval.
func TestJanitorLogsFailuresAndGoesOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s, err := pgstore.New(e.pool, "test-consumer", pgstore.WithTable(e.table)) // not migrated
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	j := startJanitor(t, s, pgstore.JanitorConfig{Interval: 10 * time.Millisecond, Logger: logger})
	for i := range 2 {
		if got := j.next(t); pgState(got.err) != "42P01" {
			t.Fatalf("sweep %d = %+v, want SQLSTATE 42P01 (no such table)", i, got)
		}
	}
	if r := j.stop(t); r.err != nil || r.total != 0 {
		t.Fatalf("RunJanitor = %d, %v; want 0, nil", r.total, r.err)
	}
	if !strings.Contains(logs.String(), "level=WARN msg=\"pgstore: deleting expired rows failed") {
		t.Fatalf("logs = %q, want a warning for the failed sweep", logs.String())
	}
}

// TestJanitorBadConfig: a bad config or a nil Store is an error at once.
func TestJanitorBadConfig(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.store(t, nil)
	ctx := testContext(t)
	var none *pgstore.Store[pgx.Tx]
	for name, err := range map[string]error{
		"negative interval": second(s.RunJanitor(ctx, pgstore.JanitorConfig{Interval: -time.Second})),
		"negative batch":    second(s.RunJanitor(ctx, pgstore.JanitorConfig{Batch: -1})),
		"nil store":         second(none.RunJanitor(ctx, pgstore.JanitorConfig{})),
	} {
		if !errors.Is(err, dedupe.ErrInvalidOption) {
			t.Errorf("%s: %v, want ErrInvalidOption", name, err)
		}
	}
}
