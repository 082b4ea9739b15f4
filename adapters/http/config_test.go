package idemqhttp_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	idemqhttp "github.com/idemq/idemq/adapters/http"
	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/pgstore"
	"github.com/idemq/idemq/dedupe/redisstore"
)

// TestNewRejectsInvalidConfig: every invalid field, a nil store and a
// typed nil store are *consumer.ConfigErrors naming the field; none
// panics.
func TestNewRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	store := memoryStore(t)
	for _, tc := range []struct {
		cfg   idemqhttp.Config
		field string
	}{
		{idemqhttp.Config{Header: "Idempotency Key"}, "Header"},
		{idemqhttp.Config{Methods: []string{"POST", ""}}, "Methods"},
		{idemqhttp.Config{ReplayHeaders: []string{"Location:"}}, "ReplayHeaders"},
		{idemqhttp.Config{MissingKey: consumer.KeySkip}, "MissingKey"},
		{idemqhttp.Config{MissingKey: consumer.KeyDeadLetter}, "MissingKey"},
		{idemqhttp.Config{MaxBodyBytes: -1}, "MaxBodyBytes"},
		{idemqhttp.Config{MaxResponseBytes: -1}, "MaxResponseBytes"},
		{idemqhttp.Config{Wait: -time.Second}, "Wait"},
		{idemqhttp.Config{RetryAfter: -time.Second}, "RetryAfter"},
		{idemqhttp.Config{Guard: consumer.Guard{Lease: time.Millisecond}}, "Guard.Lease"},
		{idemqhttp.Config{Guard: consumer.Guard{TTL: -time.Hour}}, "Guard.TTL"},
	} {
		_, err := idemqhttp.New(store, tc.cfg)
		wantConfigError(t, err, tc.field)
	}
	var nilRedis *redisstore.Store
	var nilMemory *dedupe.MemoryStore
	for _, s := range []dedupe.Store{nil, nilRedis, nilMemory} {
		_, err := idemqhttp.New(s, idemqhttp.Config{})
		wantConfigError(t, err, "store")
	}
	var nilPG *pgstore.Store[pgx.Tx]
	for _, s := range []dedupe.TxStore{nil, nilPG} {
		_, err := idemqhttp.NewTx(s, idemqhttp.Config{})
		wantConfigError(t, err, "store")
	}
	pool, err := pgxpool.New(context.Background(), "postgres://127.0.0.1:1/none") // never dialled: NewTx refuses the config first
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	pg, err := pgstore.New(pool, "scope")
	if err != nil {
		t.Fatal(err)
	}
	_, err = idemqhttp.NewTx(pg, idemqhttp.Config{Guard: consumer.Guard{TTL: time.Hour}})
	wantConfigError(t, err, "Guard")
	_, err = idemqhttp.NewTx(pg, idemqhttp.Config{Wait: time.Second})
	wantConfigError(t, err, "Wait")
}

func wantConfigError(t *testing.T, err error, field string) {
	t.Helper()
	var ce *consumer.ConfigError
	if !errors.As(err, &ce) || ce.Field != field || ce.Package != "idemqhttp" || !errors.Is(err, consumer.ErrInvalidConfig) {
		t.Errorf("error = %v, want a *consumer.ConfigError of idemqhttp for %s", err, field)
	}
}

// TestMisuseAnswers500: a nil handler and a nil *Middleware (New's error
// ignored) answer 500 problem+json instead of panicking.
func TestMisuseAnswers500(t *testing.T) {
	t.Parallel()
	var nilM *idemqhttp.Middleware
	for name, h := range map[string]http.Handler{
		"nil handler":    newMiddleware(t, memoryStore(t), idemqhttp.Config{}).Handler(nil),
		"nil middleware": nilM.Handler(&orders{}),
	} {
		w := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/orders", nil)
		req.Header.Set("Idempotency-Key", "k1")
		h.ServeHTTP(w, req)
		res := result{status: w.Code, header: w.Header(), body: w.Body.String()}
		t.Run(name, func(t *testing.T) {
			wantProblem(t, res, http.StatusInternalServerError, idemqhttp.ProblemServerError)
		})
	}
}

// TestScopeTooLong: a scope that makes the stored key too long for the
// store is a 500, not a silent unguarded run.
func TestScopeTooLong(t *testing.T) {
	t.Parallel()
	h := &orders{}
	long := string(make([]byte, dedupe.MaxKeyLen))
	srv := serve(t, newMiddleware(t, memoryStore(t), idemqhttp.Config{
		ScopeFunc: func(*http.Request) string { return long },
	}).Handler(h))
	wantProblem(t, do(t, srv, request{key: "k1"}), http.StatusInternalServerError, idemqhttp.ProblemServerError)
	if n := h.charges.Load(); n != 0 {
		t.Errorf("charges = %d, want 0", n)
	}
}
