package idemqhttp_test

import (
	"net/http"
	"sync"
	"testing"

	idemqhttp "github.com/idemq/idemq/adapters/http"
	"github.com/idemq/idemq/dedupe"
)

// TestConcurrentRetries: 100 requests with one key at once run the
// handler once; every client gets that response (first or replayed) or a
// 409, and exactly one gets it fresh.
func TestConcurrentRetries(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store dedupe.Store) {
		const clients = 100
		h := &orders{}
		m := newMiddleware(t, store, idemqhttp.Config{})
		srv := serve(t, m.Handler(h))
		srv.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = clients

		results := make([]result, clients)
		errs := make([]error, clients)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range clients {
			wg.Go(func() {
				<-start
				results[i], errs[i] = send(t.Context(), srv, request{key: "k1", body: "2 books"})
			})
		}
		close(start)
		wg.Wait()

		var fresh, replays, conflicts int
		var first result
		for i, res := range results {
			switch {
			case errs[i] != nil:
				t.Fatalf("client %d: %v", i, errs[i])
			case res.status == http.StatusConflict:
				wantProblem(t, res, http.StatusConflict, idemqhttp.ProblemInProgress)
				conflicts++
			case res.status != http.StatusCreated:
				t.Fatalf("client %d: %d %q, want 201 or 409", i, res.status, res.body)
			case res.replayed():
				replays++
			default:
				fresh++
				first = res
			}
		}
		if n := h.charges.Load(); n != 1 || fresh != 1 {
			t.Fatalf("charges %d, fresh responses %d; want 1 and 1", n, fresh)
		}
		for _, res := range results {
			if res.status == http.StatusCreated {
				wantSameResponse(t, res, first)
			}
		}
		if s := m.Stats(); s.Replays != int64(replays) || s.InProgress != int64(conflicts) {
			t.Errorf("Stats = %+v, want Replays %d, InProgress %d", s, replays, conflicts)
		}
		t.Logf("%d clients: 1 fresh, %d replays, %d conflicts", clients, replays, conflicts)
	})
}
