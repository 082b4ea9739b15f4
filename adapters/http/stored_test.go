package idemqhttp_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	idemqhttp "github.com/idemq/idemq/adapters/http"
	"github.com/idemq/idemq/dedupe"
)

// TestWhatIsStored: 2xx, 3xx and 4xx responses (a handler that wrote
// nothing answered 200) are stored and replayed; 5xx and the "not now"
// 4xx codes reach the client as written, store nothing, and a retry runs
// the handler again.
func TestWhatIsStored(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store dedupe.Store) {
		var runs atomic.Int64
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := runs.Add(1)
			status := r.URL.Query().Get("status")
			if status == "none" {
				return // net/http's implicit 200
			}
			var code int
			fmt.Sscan(status, &code)
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(code)
			if code != http.StatusNoContent && code != http.StatusNotModified {
				fmt.Fprintf(w, "run %d", n)
			}
		})
		m := newMiddleware(t, store, idemqhttp.Config{})
		srv := serve(t, m.Handler(h))
		for _, tc := range []struct {
			status string
			stored bool
		}{
			{"200", true}, {"201", true}, {"202", true}, {"204", true}, {"none", true}, {"303", true},
			{"400", true}, {"402", true}, {"404", true}, {"422", true},
			{"408", false}, {"409", false}, {"423", false}, {"425", false}, {"429", false},
			{"500", false}, {"502", false}, {"503", false},
		} {
			req := request{path: "/orders?status=" + tc.status, key: "k-" + tc.status}
			before := runs.Load()
			first := do(t, srv, req)
			if first.replayed() || strings.HasPrefix(first.header.Get("Content-Type"), "application/problem") {
				t.Errorf("%s: the first response is not the handler's: %d %v", tc.status, first.status, first.header)
			}
			again := do(t, srv, req)
			switch ran := runs.Load() - before; {
			case tc.stored && (ran != 1 || !again.replayed()):
				t.Errorf("%s: handler ran %d times, retry replayed %v; want stored: 1 run, a replay", tc.status, ran, again.replayed())
			case tc.stored:
				wantSameResponse(t, again, first)
			case !tc.stored && (ran != 2 || again.replayed() || again.status != first.status):
				t.Errorf("%s: handler ran %d times, retry %d replayed %v; want not stored: 2 runs, the handler's %d",
					tc.status, ran, again.status, again.replayed(), first.status)
			}
		}
		if s := m.Stats(); s.NotStored != 16 || s.Processed != 10 {
			t.Errorf("Stats = %+v, want NotStored 16 (8 codes, twice), Processed 10", s)
		}
	})
}

// TestPanicStoresNothing: a handler that panics stores nothing and frees
// the key; the panic reaches net/http (which cuts the connection), and the
// retry runs.
func TestPanicStoresNothing(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store dedupe.Store) {
		var runs atomic.Int64
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if runs.Add(1) == 1 {
				w.Header().Set("Location", "/orders/1")
				w.WriteHeader(http.StatusCreated)
				panic("the charge failed halfway")
			}
			w.WriteHeader(http.StatusCreated)
		})
		srv := serve(t, newMiddleware(t, store, idemqhttp.Config{}).Handler(h))
		if res, err := send(t.Context(), srv, request{key: "k1"}); err == nil {
			t.Fatalf("the panicking request got %d, want a broken connection", res.status)
		}
		if res := do(t, srv, request{key: "k1"}); res.status != http.StatusCreated || res.replayed() || runs.Load() != 2 {
			t.Errorf("retry after a panic: %d, replayed %v, runs %d; want a fresh 201, 2 runs", res.status, res.replayed(), runs.Load())
		}
	})
}

// TestResponseTooLarge: a response over MaxResponseBytes reaches the
// client whole as the handler writes it, is not stored, and the key is
// free: a retry runs the handler again.
func TestResponseTooLarge(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store dedupe.Store) {
		var runs atomic.Int64
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			runs.Add(1)
			w.Header().Set("Location", "/reports/1")
			w.WriteHeader(http.StatusCreated)
			for i := range 3 {
				fmt.Fprint(w, strings.Repeat(fmt.Sprint(i), 60))
			}
		})
		m := newMiddleware(t, store, idemqhttp.Config{MaxResponseBytes: 100})
		srv := serve(t, m.Handler(h))
		want := strings.Repeat("0", 60) + strings.Repeat("1", 60) + strings.Repeat("2", 60)
		for i := range 2 {
			res := do(t, srv, request{key: "k1"})
			if res.status != http.StatusCreated || res.body != want || res.header.Get("Location") != "/reports/1" || res.replayed() {
				t.Errorf("request %d: %d %q Location %q replayed %v; want the handler's whole 201", i, res.status, res.body, res.header.Get("Location"), res.replayed())
			}
		}
		if n, s := runs.Load(), m.Stats(); n != 2 || s.NotStored != 2 {
			t.Errorf("runs %d, Stats.NotStored %d; want 2 and 2", n, s.NotStored)
		}
	})
}
