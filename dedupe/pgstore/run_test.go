package pgstore_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/pgstore"
	"github.com/idemq/idemq/internal/testenv"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// TestConcurrentRunsHaveOneEffect: 100 concurrent Runs of one key on 20
// connections: one runs and commits its effect; every other one waits on
// the key's row and gets the winner's value without running.
func TestConcurrentRunsHaveOneEffect(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	pool := newPool(t, e.url+"&pool_max_conns=20")
	s := e.store(t, pool)
	ctx := testContext(t)
	const runs = 100
	errs := make([]error, runs)
	var wg sync.WaitGroup
	for i := range runs {
		wg.Go(func() {
			_, errs[i] = pgstore.Run(ctx, s, "k", func(ctx context.Context, tx pgx.Tx) (string, error) {
				return "run " + strconv.Itoa(i), e.effect(ctx, tx, "k", strconv.Itoa(i))
			})
		})
	}
	wg.Wait()
	if n := e.effectsOf(t, "k"); n != 1 {
		t.Fatalf("effects of k = %d, want 1", n)
	}
	var winner string
	if err := e.pool.QueryRow(ctx, "SELECT 'run ' || run FROM "+e.effects+" WHERE key = 'k'").Scan(&winner); err != nil {
		t.Fatal(err)
	}
	won := 0
	for i, err := range errs {
		var conflict *dedupe.ConflictError[string]
		switch {
		case err == nil:
			won++
		case errors.As(err, &conflict) && conflict.Value == winner:
		default:
			t.Errorf("run %d = %v, want nil or a conflict with %q", i, err, winner)
		}
	}
	if won != 1 {
		t.Errorf("%d runs returned nil, want 1", won)
	}
}

// TestFunctionErrorStoresNothing: a function that fails rolls back its
// effect and the key's row: the next Run runs.
func TestFunctionErrorStoresNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.store(t, nil)
	ctx := testContext(t)
	boom := errors.New("boom")
	_, err := pgstore.Run(ctx, s, "k", func(ctx context.Context, tx pgx.Tx) (string, error) {
		if err := e.effect(ctx, tx, "k", "failed"); err != nil {
			return "", err
		}
		return "", boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failing Run = %v, want its function's error", err)
	}
	if n := e.effectsOf(t, "k"); n != 0 {
		t.Fatalf("effects after a failed Run = %d, want 0", n)
	}
	got, err := pgstore.Run(ctx, s, "k", func(ctx context.Context, tx pgx.Tx) (string, error) {
		return "second", e.effect(ctx, tx, "k", "second")
	})
	if err != nil || got != "second" {
		t.Fatalf("Run after a failed one = %q, %v; want it to run", got, err)
	}
	if n := e.effectsOf(t, "k"); n != 1 {
		t.Fatalf("effects = %d, want 1", n)
	}
}

// TestKilledOwnerFreesKeyAtOnce: the owner's session is terminated
// (pg_terminate_backend, as when its process dies) while a duplicate
// waits: the owner's effect is rolled back and the duplicate runs at once,
// with no lease to wait out.
func TestKilledOwnerFreesKeyAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.store(t, nil)
	ctx := testContext(t)
	pids := make(chan int, 1)
	release := make(chan struct{})
	owner := make(chan error, 1)
	go func() {
		_, err := pgstore.Run(ctx, s, "k", func(ctx context.Context, tx pgx.Tx) (string, error) {
			var pid int
			if err := tx.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
				return "", err
			}
			if err := e.effect(ctx, tx, "k", "owner"); err != nil {
				return "", err
			}
			pids <- pid
			<-release
			return "owner", nil
		})
		owner <- err
	}()
	pid := <-pids
	dup := make(chan error, 1)
	go func() {
		_, err := pgstore.Run(ctx, s, "k", func(ctx context.Context, tx pgx.Tx) (string, error) {
			return "duplicate", e.effect(ctx, tx, "k", "duplicate")
		})
		dup <- err
	}()
	waitForLockWaiter(t, e.pool)
	killed := time.Now()
	var ok bool
	if err := e.pool.QueryRow(ctx, "SELECT pg_terminate_backend($1)", pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend = %v, %v", ok, err)
	}
	if err := <-dup; err != nil {
		t.Fatalf("duplicate after the owner's session died = %v, want it to run", err)
	}
	if took := time.Since(killed); took > 5*time.Second {
		t.Errorf("the duplicate ran %v after the owner died, want at once", took)
	}
	close(release)
	if err := <-owner; err == nil {
		t.Error("the killed owner's Run returned nil, want an error: its transaction is gone")
	}
	var runs []string
	rows, err := e.pool.Query(ctx, "SELECT run FROM "+e.effects+" WHERE key = 'k'")
	if err == nil {
		runs, err = pgx.CollectRows(rows, pgx.RowTo[string])
	}
	if err != nil || len(runs) != 1 || runs[0] != "duplicate" {
		t.Fatalf("effects = %v, %v; want only the duplicate's", runs, err)
	}
}

// waitForLockWaiter polls pg_stat_activity until a session waits for a
// lock (the duplicate is blocked on the owner's row).
func waitForLockWaiter(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := pool.QueryRow(testContext(t), "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").Scan(&n)
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no session waits for the owner's row")
		}
		time.Sleep(5 * time.Millisecond) // no signal: the server's state is polled
	}
}

// TestLostCommitReplyIsUnknown: the server commits but its answer is lost
// (the link breaks): Run reports dedupe.ErrCommitUnknown, never success,
// and the redelivery finds the committed row. A link lost before COMMIT
// rolls back: the redelivery runs, once.
func TestLostCommitReplyIsUnknown(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		reply     string // the reply the proxy loses
		unknown   bool
		redeliver func(t *testing.T, err error)
	}{
		{"AtCommit", "COMMIT\x00", true, func(t *testing.T, err error) {
			var conflict *dedupe.ConflictError[string]
			if !errors.As(err, &conflict) || conflict.Value != "first" {
				t.Errorf("redelivery = %v, want a conflict with the committed value", err)
			}
		}},
		{"BeforeCommit", "UPDATE 1\x00", false, func(t *testing.T, err error) {
			if err != nil {
				t.Errorf("redelivery = %v, want it to run: nothing was committed", err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			proxied := proxiedPool(t, e.url)
			s := e.store(t, proxied.pool)
			ctx := testContext(t)
			_, err := pgstore.Run(ctx, s, "k", func(ctx context.Context, tx pgx.Tx) (string, error) {
				proxied.proxy.DropReply(func(reply []byte) bool { return bytes.Contains(reply, []byte(tc.reply)) })
				return "first", e.effect(ctx, tx, "k", "first")
			})
			if got := errors.Is(err, dedupe.ErrCommitUnknown); err == nil || got != tc.unknown {
				t.Fatalf("Run whose reply %q was lost = %v; want an error, ErrCommitUnknown %v", tc.reply, err, tc.unknown)
			}
			_, err = pgstore.Run(ctx, e.store(t, nil), "k", func(ctx context.Context, tx pgx.Tx) (string, error) {
				return "redelivered", e.effect(ctx, tx, "k", "redelivered")
			})
			tc.redeliver(t, err)
			if n := e.effectsOf(t, "k"); n != 1 {
				t.Errorf("effects = %d, want 1", n)
			}
		})
	}
}

type proxied struct {
	pool  *pgxpool.Pool
	proxy *testenv.Proxy
}

// proxiedPool returns a pool whose connections go through a fault proxy.
func proxiedPool(t *testing.T, url string) proxied {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	p := testenv.NewProxy(t, net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port))))
	host, port, _ := net.SplitHostPort(p.Addr())
	n, _ := strconv.Atoi(port)
	cfg.ConnConfig.Host, cfg.ConnConfig.Port = host, uint16(n)
	pool, err := pgxpool.NewWithConfig(testContext(t), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return proxied{pool: pool, proxy: p}
}

// TestExpiryAndDeleteExpired: an expired row counts as absent, and
// DeleteExpired deletes the expired rows in bounded batches.
func TestExpiryAndDeleteExpired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.store(t, nil, pgstore.WithTTL(50*time.Millisecond))
	ctx := testContext(t)
	run := func(key string) error {
		_, err := pgstore.Run(ctx, s, key, func(ctx context.Context, tx pgx.Tx) (string, error) {
			return key, e.effect(ctx, tx, key, "")
		})
		return err
	}
	for i := range 3 {
		if err := run(fmt.Sprint("k", i)); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(100 * time.Millisecond) // the rows expire by the server's clock: nothing to wait on
	if err := run("k0"); err != nil {
		t.Fatalf("Run of an expired key = %v, want it to run again", err)
	}
	n, err := s.DeleteExpired(ctx, 1)
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpired = %d, %v; want 2 (k1, k2; k0 is live again)", n, err)
	}
	var left int
	if err := e.pool.QueryRow(ctx, "SELECT count(*) FROM "+e.table).Scan(&left); err != nil || left != 1 {
		t.Fatalf("rows left = %d, %v; want 1", left, err)
	}
}

// TestFingerprints: a key committed for one payload is a
// *dedupe.KeyReusedError for another, and a duplicate for the same.
func TestFingerprints(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.store(t, nil)
	ctx := testContext(t)
	run := func(fp string) error {
		_, err := pgstore.Run(ctx, s, "k", func(ctx context.Context, tx pgx.Tx) (string, error) {
			return fp, e.effect(ctx, tx, "k", fp)
		}, pgstore.WithFingerprint([]byte(fp)))
		return err
	}
	if err := run("order A"); err != nil {
		t.Fatal(err)
	}
	var reused *dedupe.KeyReusedError
	if err := run("order B"); !errors.As(err, &reused) {
		t.Fatalf("Run with another payload = %v, want a *dedupe.KeyReusedError", err)
	}
	if err := run("order A"); !errors.Is(err, dedupe.ErrConflict) {
		t.Fatalf("Run with the same payload = %v, want a duplicate", err)
	}
	if n := e.effectsOf(t, "k"); n != 1 {
		t.Fatalf("effects = %d, want 1", n)
	}
}

// TestLockTimeoutIsInProgress: a duplicate waits for a running owner at
// most the lock timeout, then gets dedupe.ErrInProgress.
func TestLockTimeoutIsInProgress(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	owner, dup := e.store(t, nil), e.store(t, nil, pgstore.WithLockTimeout(200*time.Millisecond))
	ctx := testContext(t)
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		_, err := pgstore.Run(ctx, owner, "k", func(ctx context.Context, tx pgx.Tx) (string, error) {
			close(holding)
			<-release
			return "owner", nil
		})
		done <- err
	}()
	<-holding
	_, err := pgstore.Run(ctx, dup, "k", func(ctx context.Context, tx pgx.Tx) (string, error) {
		t.Error("the duplicate ran while the owner held the key")
		return "", nil
	})
	if !errors.Is(err, dedupe.ErrInProgress) {
		t.Errorf("duplicate past the lock timeout = %v, want ErrInProgress", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("owner = %v", err)
	}
}

// TestDatabaseSQL: the same on database/sql: the function gets the *sql.Tx.
func TestDatabaseSQL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.sqlStore(t)
	ctx := testContext(t)
	effect := func(ctx context.Context, tx *sql.Tx, run string) error {
		_, err := tx.ExecContext(ctx, "INSERT INTO "+e.effects+" (key, run) VALUES ('k', $1)", run)
		return err
	}
	boom := errors.New("boom")
	if _, err := pgstore.Run(ctx, s, "k", func(ctx context.Context, tx *sql.Tx) (string, error) {
		if err := effect(ctx, tx, "failed"); err != nil {
			return "", err
		}
		return "", boom
	}); !errors.Is(err, boom) {
		t.Fatalf("failing Run = %v, want boom", err)
	}
	if got, err := pgstore.Run(ctx, s, "k", func(ctx context.Context, tx *sql.Tx) (string, error) {
		return "first", effect(ctx, tx, "first")
	}); err != nil || got != "first" {
		t.Fatalf("Run = %q, %v", got, err)
	}
	var conflict *dedupe.ConflictError[string]
	if _, err := pgstore.Run(ctx, s, "k", func(ctx context.Context, tx *sql.Tx) (string, error) {
		return "again", effect(ctx, tx, "again")
	}); !errors.As(err, &conflict) || conflict.Value != "first" {
		t.Fatalf("duplicate = %v, want a conflict with %q", err, "first")
	}
	if n := e.effectsOf(t, "k"); n != 1 {
		t.Fatalf("effects = %d, want 1", n)
	}
}

// TestBadInput: every mistake is a clear error, and nothing runs.
func TestBadInput(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := testContext(t)
	for name, err := range map[string]error{
		"nil pool":    second(pgstore.New(nil, "scope")),
		"nil db":      second(pgstore.NewSQL(nil, "scope")),
		"empty scope": second(pgstore.New(e.pool, "")),
		"bad table":   second(pgstore.New(e.pool, "scope", pgstore.WithTable("keys; DROP TABLE x"))),
		"zero TTL":    second(pgstore.New(e.pool, "scope", pgstore.WithTTL(0))),
		"nil codec":   second(pgstore.New(e.pool, "scope", pgstore.WithCodec(nil))),
	} {
		if !errors.Is(err, dedupe.ErrInvalidOption) {
			t.Errorf("%s: %v, want ErrInvalidOption", name, err)
		}
	}
	s := e.store(t, nil)
	fn := func(ctx context.Context, tx pgx.Tx) (int, error) {
		t.Error("fn ran")
		return 0, nil
	}
	if _, err := pgstore.Run(ctx, s, "", fn); !errors.Is(err, dedupe.ErrInvalidKey) {
		t.Errorf("empty key: %v, want ErrInvalidKey", err)
	}
	if _, err := pgstore.Run[pgx.Tx, int](ctx, nil, "k", fn); !errors.Is(err, dedupe.ErrInvalidOption) {
		t.Errorf("nil store: %v, want ErrInvalidOption", err)
	}
	if _, err := pgstore.Run[pgx.Tx, int](ctx, s, "k", nil); !errors.Is(err, dedupe.ErrInvalidOption) {
		t.Errorf("nil function: %v, want ErrInvalidOption", err)
	}
}

func second[T any](_ T, err error) error { return err }

// nilCodec encodes every value as no bytes at all.
type nilCodec struct{}

func (nilCodec) Encode(any) ([]byte, error) { return nil, nil }
func (nilCodec) Decode([]byte, any) error   { return nil }

// TestEmptyValueIsCommitted: a value that encodes to no bytes still marks
// the key committed: the next Run is a duplicate.
func TestEmptyValueIsCommitted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.store(t, nil, pgstore.WithCodec(nilCodec{}))
	ctx := testContext(t)
	for i := range 2 {
		_, err := pgstore.Run(ctx, s, "k", func(ctx context.Context, tx pgx.Tx) (string, error) {
			return "", e.effect(ctx, tx, "k", "")
		})
		if want := i == 1; errors.Is(err, dedupe.ErrConflict) != want || i == 0 && err != nil {
			t.Fatalf("Run %d = %v, want a conflict %v", i, err, want)
		}
	}
	if n := e.effectsOf(t, "k"); n != 1 {
		t.Fatalf("effects = %d, want 1", n)
	}
}

// TestRunTx: the dedupe.TxStore seam the adapters use: fn finds the
// transaction in its ctx, and a duplicate gets the stored bytes.
func TestRunTx(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s := e.store(t, nil)
	ctx := testContext(t)
	fn := func(ctx context.Context) ([]byte, error) {
		tx, ok := s.Tx(ctx)
		if !ok {
			return nil, errors.New("no transaction in ctx")
		}
		return []byte(`"done"`), e.effect(ctx, tx, "k", "")
	}
	for i, want := range []dedupe.TxOutcome{{Value: []byte(`"done"`)}, {Value: []byte(`"done"`), Duplicate: true}} {
		got, err := s.RunTx(ctx, "k", nil, fn)
		if err != nil || string(got.Value) != string(want.Value) || got.Duplicate != want.Duplicate {
			t.Fatalf("RunTx %d = %+v, %v; want %+v", i, got, err, want)
		}
	}
	if _, ok := s.Tx(ctx); ok {
		t.Error("Tx outside RunTx found a transaction")
	}
	if n := e.effectsOf(t, "k"); n != 1 {
		t.Fatalf("effects = %d, want 1", n)
	}
}
