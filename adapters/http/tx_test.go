package idemqhttp_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	idemqhttp "github.com/idemq/idemq/adapters/http"
	"github.com/idemq/idemq/dedupe/pgstore"
	"github.com/idemq/idemq/internal/testenv"
)

// txServer serves a handler that inserts a row through the request's
// transaction and answers with the status of its ?status= (201 by
// default), on a middleware over a pgstore.Store.
func txServer(t *testing.T, cfg idemqhttp.Config, block chan struct{}, opts ...pgstore.Option) (srv *pgServer) {
	t.Helper()
	pool, effects := testenv.PostgresEffects(t)
	store, err := pgstore.New(pool, "http-test", append(opts, pgstore.WithTable(effects+"_keys"))...)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	m, err := idemqhttp.NewTx(store, cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := &pgServer{pool: pool, effects: effects, started: make(chan struct{}, 10)}
	s.srv = serve(t, m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.runs.Add(1)
		tx, ok := store.Tx(r.Context())
		if !ok {
			http.Error(w, "no transaction in the request's context", http.StatusInternalServerError)
			return
		}
		if _, err := tx.Exec(r.Context(), "INSERT INTO "+effects+" (key) VALUES ($1)", r.Header.Get("Idempotency-Key")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		s.started <- struct{}{}
		if block != nil {
			<-block
		}
		status := http.StatusCreated
		if r.URL.Query().Get("status") == "500" {
			status = http.StatusInternalServerError
		}
		w.Header().Set("Location", "/orders/1")
		w.WriteHeader(status)
		w.Write([]byte("order 1"))
	})))
	return s
}

type pgServer struct {
	srv     *httptest.Server
	pool    *pgxpool.Pool
	effects string
	runs    atomic.Int64
	started chan struct{}
}

// rows counts the effects of key.
func (s *pgServer) rows(t *testing.T, key string) int {
	t.Helper()
	var n int
	if err := s.pool.QueryRow(context.Background(), "SELECT count(*) FROM "+s.effects+" WHERE key = $1", key).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestTxStore: on a transactional store the handler's write and its
// response commit together: a 5xx rolls the write back and the retry
// runs; a 201 commits once and is replayed; another body is a 422.
func TestTxStore(t *testing.T) {
	t.Parallel()
	s := txServer(t, idemqhttp.Config{}, nil)
	failed := do(t, s.srv, request{key: "k1", path: "/orders?status=500", body: "a"})
	if failed.status != http.StatusInternalServerError || s.rows(t, "k1") != 0 {
		t.Fatalf("a 500: status %d, rows %d; want the handler's 500 and its write rolled back", failed.status, s.rows(t, "k1"))
	}
	first := do(t, s.srv, request{key: "k1", body: "a"})
	again := do(t, s.srv, request{key: "k1", body: "a"})
	if first.status != http.StatusCreated || first.replayed() {
		t.Fatalf("first = %d replayed %v, want a fresh 201", first.status, first.replayed())
	}
	wantSameResponse(t, again, first)
	if !again.replayed() {
		t.Error("the retry is not marked as a replay")
	}
	wantProblem(t, do(t, s.srv, request{key: "k1", body: "b"}), http.StatusUnprocessableEntity, idemqhttp.ProblemKeyReused)
	if rows, runs := s.rows(t, "k1"), s.runs.Load(); rows != 1 || runs != 2 {
		t.Errorf("rows %d, handler runs %d; want 1 row (the 500's rolled back) and 2 runs", rows, runs)
	}
}

// TestTxStoreInProgress: a retry that finds the first request's
// transaction holding the key waits up to the store's lock timeout, then
// gets 409.
func TestTxStoreInProgress(t *testing.T) {
	t.Parallel()
	block := make(chan struct{})
	s := txServer(t, idemqhttp.Config{}, block, pgstore.WithLockTimeout(100*time.Millisecond))
	firstDone := make(chan result, 1)
	go func() { firstDone <- do(t, s.srv, request{key: "k1"}) }()
	await(t, s.started, "the first request's handler")
	wantProblem(t, do(t, s.srv, request{key: "k1"}), http.StatusConflict, idemqhttp.ProblemInProgress)
	close(block)
	if first := await(t, firstDone, "the first response"); first.status != http.StatusCreated {
		t.Errorf("first = %d, want 201", first.status)
	}
	if rows := s.rows(t, "k1"); rows != 1 {
		t.Errorf("rows = %d, want 1", rows)
	}
}

// TestTxStoreResponseTooLarge: on a transactional store a response over
// MaxResponseBytes cannot go out before the commit: the handler's Write
// fails, its write rolls back, and the client gets 500.
func TestTxStoreResponseTooLarge(t *testing.T) {
	t.Parallel()
	s := txServer(t, idemqhttp.Config{MaxResponseBytes: 4}, nil)
	wantProblem(t, do(t, s.srv, request{key: "k1"}), http.StatusInternalServerError, idemqhttp.ProblemServerError)
	if rows := s.rows(t, "k1"); rows != 0 {
		t.Errorf("rows = %d, want 0 (rolled back)", rows)
	}
}
