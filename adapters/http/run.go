package idemqhttp

import (
	"context"
	"errors"
	"net/http"

	"github.com/idemq/idemq/dedupe"
)

// errNotStored is what the guarded function returns for a response that
// is not stored (see storable): nothing is committed, the key is freed
// (on a transactional store, the handler's writes roll back), and the
// client gets the response as the handler wrote it.
var errNotStored = errors.New("idemqhttp: response not stored")

// guard runs next for the request under the key skey, with the request's
// fingerprint fp, and answers w.
func (m *Middleware) guard(w http.ResponseWriter, r *http.Request, next http.Handler, skey string, fp []byte) {
	var rec *recorder // set once the handler ran
	var err error
	if m.tx != nil {
		rec, err = m.runTx(r.Context(), w, r, next, skey, fp)
	} else {
		rec, err = m.run(r.Context(), w, r, next, skey, fp)
	}
	m.answer(w, r, rec, err)
}

// run guards next with dedupe.Run: the handler's response is committed
// before it goes out. It returns the recorder of the handler (nil if it
// did not run) and Run's error.
func (m *Middleware) run(ctx context.Context, w http.ResponseWriter, r *http.Request, next http.Handler, skey string, fp []byte) (*recorder, error) {
	opts := m.opts
	if fp != nil {
		opts = append(opts[:len(opts):len(opts)], dedupe.WithFingerprint(fp))
	}
	var rec *recorder
	_, err := dedupe.Run(ctx, m.store, skey, func(ctx context.Context, end dedupe.End[response]) (struct{}, error) {
		rec = m.serveHandler(ctx, w, r, next, true)
		if !storable(rec) {
			return struct{}{}, errNotStored
		}
		end(rec.response().stored(m.cfg.ReplayHeaders))
		return struct{}{}, nil
	}, opts...)
	return rec, err
}

// runTx guards next in a transaction of the transactional store: the
// handler's writes and its response commit together. (NewTx takes no
// Config.Wait: the store's lock timeout bounds a retry's wait.)
func (m *Middleware) runTx(ctx context.Context, w http.ResponseWriter, r *http.Request, next http.Handler, skey string, fp []byte) (*recorder, error) {
	var rec *recorder
	out, err := m.tx.RunTx(ctx, skey, fp, func(ctx context.Context) ([]byte, error) {
		rec = m.serveHandler(ctx, w, r, next, false)
		if !storable(rec) {
			return nil, errNotStored
		}
		return responseCodec{}.Encode(rec.response().stored(m.cfg.ReplayHeaders))
	})
	if err != nil || !out.Duplicate {
		return rec, err
	}
	var stored response
	if err := (responseCodec{}).Decode(out.Value, &stored); err != nil {
		return nil, &dedupe.DecodeError{Key: skey, Err: err}
	}
	return nil, &dedupe.ConflictError[response]{Key: skey, Value: stored}
}

// serveHandler runs next with a recorder and the guard's ctx (cancelled if
// the guard learns it cannot win, e.g. its lease was lost); stream lets a
// response too large to store go out as it is written.
func (m *Middleware) serveHandler(ctx context.Context, w http.ResponseWriter, r *http.Request, next http.Handler, stream bool) *recorder {
	m.m.inFlight.Add(1)
	defer m.m.inFlight.Add(-1)
	rec := newRecorder(w, m.cfg.MaxResponseBytes, stream)
	next.ServeHTTP(rec, r.WithContext(ctx))
	return rec
}

// storable reports whether the handler's response is stored and replayed:
// a response within Config.MaxResponseBytes whose status says the request
// was carried out or refused for good (2xx, 3xx, 4xx; a handler that wrote
// nothing answered 200). 5xx says the server failed, so a retry must run
// again; 408, 409, 423, 425 and 429 say "not now", and a replay would
// repeat "not now" for the whole TTL.
func storable(rec *recorder) bool {
	switch s := rec.response().status; {
	case rec.oversized:
		return false
	case s >= 500:
		return false
	case s == http.StatusRequestTimeout, s == http.StatusConflict, s == http.StatusLocked,
		s == http.StatusTooEarly, s == http.StatusTooManyRequests:
		return false
	}
	return true
}
