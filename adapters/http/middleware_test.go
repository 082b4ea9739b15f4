package idemqhttp_test

import (
	"net/http"
	"testing"
	"time"

	idemqhttp "github.com/idemq/idemq/adapters/http"
	"github.com/idemq/idemq/dedupe"
)

// TestReplay: a retry after completion gets the first response (status,
// Location, Content-Type, body) marked as a replay, without a second
// charge; headers outside ReplayHeaders go to the first response only.
func TestReplay(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store dedupe.Store) {
		h := &orders{}
		m := newMiddleware(t, store, idemqhttp.Config{})
		srv := serve(t, m.Handler(h))

		first := do(t, srv, request{key: "k1", body: "2 books"})
		if first.status != http.StatusCreated || first.header.Get("Location") != "/orders/1" || first.replayed() {
			t.Fatalf("first = %d, Location %q, replayed %v; want 201, /orders/1, not replayed",
				first.status, first.header.Get("Location"), first.replayed())
		}
		if first.header.Get("Set-Cookie") == "" || first.header.Get("X-Trace") != "1" {
			t.Errorf("the first response lacks the handler's other headers: %v", first.header)
		}
		for range 2 {
			again := do(t, srv, request{key: "k1", body: "2 books"})
			wantSameResponse(t, again, first)
			if !again.replayed() {
				t.Errorf("retry not marked %s: true", idemqhttp.ReplayedHeader)
			}
			if again.header.Get("Set-Cookie") != "" || again.header.Get("X-Trace") != "" {
				t.Errorf("retry replayed headers outside ReplayHeaders: %v", again.header)
			}
		}
		if n := h.charges.Load(); n != 1 {
			t.Errorf("charges = %d, want 1", n)
		}
		if s := m.Stats(); s.Processed != 1 || s.Replays != 2 {
			t.Errorf("Stats = %+v, want Processed 1, Replays 2", s)
		}
	})
}

// TestInProgress: a retry while the first request runs gets 409 with
// Retry-After at once; the first then answers, and a later retry gets
// its response.
func TestInProgress(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store dedupe.Store) {
		h := newBlocking()
		m := newMiddleware(t, store, idemqhttp.Config{})
		srv := serve(t, m.Handler(h))

		firstDone := make(chan result, 1)
		go func() { firstDone <- do(t, srv, request{key: "k1", body: "a"}) }()
		await(t, h.started, "the first request's handler")

		conflict := do(t, srv, request{key: "k1", body: "a"})
		wantProblem(t, conflict, http.StatusConflict, idemqhttp.ProblemInProgress)
		if got := conflict.header.Get("Retry-After"); got != "1" {
			t.Errorf("Retry-After = %q, want 1", got)
		}
		close(h.release)
		first := await(t, firstDone, "the first response")
		if first.status != http.StatusCreated || first.body != "run 1" {
			t.Fatalf("first = %d %q, want 201 run 1", first.status, first.body)
		}
		wantSameResponse(t, do(t, srv, request{key: "k1", body: "a"}), first)
		if n := h.runs.Load(); n != 1 {
			t.Errorf("handler runs = %d, want 1", n)
		}
		if s := m.Stats(); s.InProgress != 1 {
			t.Errorf("Stats.InProgress = %d, want 1", s.InProgress)
		}
	})
}

// TestWait: with Config.Wait a retry that finds the first running waits
// for its response and replays it; past the wait it gets 409.
func TestWait(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store dedupe.Store) {
		spy := &spyStore{Store: store, contended: make(chan struct{}, 10)}
		h := newBlocking()
		waits := serve(t, newMiddleware(t, spy, idemqhttp.Config{Wait: time.Minute}).Handler(h))
		short := serve(t, newMiddleware(t, store, idemqhttp.Config{Wait: 50 * time.Millisecond}).Handler(h))

		firstDone := make(chan result, 1)
		go func() { firstDone <- do(t, waits, request{key: "k1"}) }()
		await(t, h.started, "the first request's handler")

		wantProblem(t, do(t, short, request{key: "k1"}), http.StatusConflict, idemqhttp.ProblemInProgress)

		retryDone := make(chan result, 1)
		go func() { retryDone <- do(t, waits, request{key: "k1"}) }()
		await(t, spy.contended, "the waiting retry's claim")
		close(h.release)
		first := await(t, firstDone, "the first response")
		retry := await(t, retryDone, "the waiting retry")
		wantSameResponse(t, retry, first)
		if !retry.replayed() || h.runs.Load() != 1 {
			t.Errorf("retry replayed %v, handler runs %d; want a replay and 1 run", retry.replayed(), h.runs.Load())
		}
	})
}

// TestKeyReused: the key with another body, path or method gets 422 and
// runs nothing.
func TestKeyReused(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store dedupe.Store) {
		h := &orders{}
		m := newMiddleware(t, store, idemqhttp.Config{})
		mux := http.NewServeMux()
		mux.Handle("/", m.Handler(h))
		srv := serve(t, mux)

		if first := do(t, srv, request{key: "k1", body: "2 books"}); first.status != http.StatusCreated {
			t.Fatalf("first = %d, want 201", first.status)
		}
		for _, req := range []request{
			{key: "k1", body: "3 books"},
			{key: "k1", body: "2 books", path: "/refunds"},
			{key: "k1", body: "2 books", path: "/orders?express=1"},
			{key: "k1", body: "2 books", method: http.MethodPatch},
		} {
			wantProblem(t, do(t, srv, req), http.StatusUnprocessableEntity, idemqhttp.ProblemKeyReused)
		}
		if n := h.charges.Load(); n != 1 {
			t.Errorf("charges = %d, want 1", n)
		}
		if s := m.Stats(); s.KeyReused != 4 {
			t.Errorf("Stats.KeyReused = %d, want 4", s.KeyReused)
		}
	})
}
