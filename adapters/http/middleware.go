package idemqhttp

import (
	"errors"
	"log/slog"
	"net/http"
	"slices"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/ratelog"
)

// Middleware runs an HTTP handler at most once per Idempotency-Key (and
// scope) across every instance that shares its store, and replays the
// stored response to retries. Build it with New or NewTx; it is safe for
// concurrent use and holds no goroutine of its own (the store does: close
// the store after the server has shut down).
type Middleware struct {
	store dedupe.Store
	tx    dedupe.TxStore // NewTx: instead of store
	cfg   Config
	opts  []dedupe.RunOption
	m     *metrics
}

// New validates cfg once and returns a Middleware on store (a
// redisstore.Store across instances, a dedupe.MemoryStore within one). A
// nil store (also a nil *redisstore.Store: see dedupe.IsNilStore) or an
// invalid Config is a *consumer.ConfigError (consumer.ErrInvalidConfig).
func New(store dedupe.Store, cfg Config) (*Middleware, error) {
	switch {
	case store == nil:
		return nil, invalid("store", "is nil")
	case dedupe.IsNilStore(store):
		return nil, invalid("store", "is a nil %T", store)
	}
	return newMiddleware(cfg, func(m *Middleware) { m.store, m.opts = store, m.cfg.runOptions() })
}

// NewTx returns a Middleware on a transactional store (a *pgstore.Store):
// each guarded handler runs inside a transaction of the store that holds
// its key, found with the store's Tx(r.Context()), and its writes through
// that transaction commit together with the stored response, or not at
// all. The response goes out after the commit. A retry while the first
// request runs waits on the key's row, up to the store's lock timeout
// (pgstore.WithLockTimeout), then gets the stored response, or 409. The
// store keeps its own TTL and lock timeout and needs no lease:
// Config.Guard and Config.Wait must be zero.
func NewTx(store dedupe.TxStore, cfg Config) (*Middleware, error) {
	switch {
	case store == nil:
		return nil, invalid("store", "is nil")
	case dedupe.IsNilTxStore(store):
		return nil, invalid("store", "is a nil %T", store)
	case cfg.Guard != (consumer.Guard{}):
		return nil, invalid("Guard", "is set but the store is transactional: it keeps its own TTL and takes no lease")
	case cfg.Wait != 0:
		return nil, invalid("Wait", "is set but the store is transactional: a retry waits on the key's row for the store's lock timeout (pgstore.WithLockTimeout)")
	}
	return newMiddleware(cfg, func(m *Middleware) { m.tx = store })
}

// newMiddleware validates cfg, fills in its defaults and sets up the
// metrics; on sets the store.
func newMiddleware(cfg Config, on func(m *Middleware)) (*Middleware, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	mt, err := newMetrics(cfg.MeterProvider)
	if err != nil {
		return nil, err
	}
	m := &Middleware{cfg: cfg, m: mt}
	on(m)
	if cfg.ScopeFunc == nil {
		cfg.Logger.Info("idemqhttp: no ScopeFunc: every client shares one key space")
	}
	return m, nil
}

// Stats returns the Middleware's counters.
func (m *Middleware) Stats() Stats { return m.m.stats() }

// Handler is the middleware: it returns next guarded. Use it per route
// (mux.Handle("POST /orders", m.Handler(orders))) or around a router
// (chi's r.Use(m.Handler)). Requests whose method is not in
// Config.Methods reach next untouched. A nil next, or a nil Middleware
// (New's error ignored), answers every request 500 and logs why.
func (m *Middleware) Handler(next http.Handler) http.Handler {
	switch {
	case m == nil:
		return misconfigured(ratelog.Logger(nil, 0), "idemqhttp: Handler of a nil *Middleware (New's error ignored?)")
	case next == nil:
		return misconfigured(m.cfg.Logger, "idemqhttp: Handler(nil): no handler to guard")
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !slices.Contains(m.cfg.Methods, r.Method) {
			next.ServeHTTP(w, r)
			return
		}
		m.serve(w, r, next)
	})
}

// serve checks a guarded request's key and body, then runs it under the
// guard.
func (m *Middleware) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	key, err := parseKey(r.Header.Values(m.cfg.Header))
	switch {
	case errors.Is(err, ErrNoKey) && m.cfg.MissingKey == consumer.KeyProcess:
		m.m.unguarded.Add(1)
		next.ServeHTTP(w, r)
		return
	case errors.Is(err, ErrNoKey):
		m.m.keyErrors.Add(1)
		problem(w, http.StatusBadRequest, ProblemKeyMissing, "send the "+m.cfg.Header+" header", 0)
		return
	case err != nil:
		m.m.keyErrors.Add(1)
		problem(w, http.StatusBadRequest, ProblemKeyInvalid, err.Error(), 0)
		return
	}
	skey, err := storeKey(m.scope(r), key)
	if err != nil {
		m.m.guardErrors.Add(1)
		m.cfg.Logger.Error("idemqhttp: cannot guard the request", "err", err)
		problem(w, http.StatusInternalServerError, ProblemServerError, "the request's scope is too long", 0)
		return
	}
	body, err := readBody(r, m.cfg.MaxBodyBytes)
	if err != nil {
		m.m.keyErrors.Add(1)
		if errors.Is(err, ErrBodyTooLarge) {
			problem(w, http.StatusRequestEntityTooLarge, ProblemBodyTooLarge, err.Error(), 0)
		} else {
			problem(w, http.StatusBadRequest, ProblemBodyUnreadable, err.Error(), 0)
		}
		return
	}
	m.guard(w, r, next, skey, m.cfg.FingerprintFunc(r, body))
}

// misconfigured is a handler that answers 500 and logs why.
func misconfigured(l *slog.Logger, why string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.Error(why)
		problem(w, http.StatusInternalServerError, ProblemServerError, "the server's idempotency middleware is misconfigured", 0)
	})
}
