package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	idemqhttp "github.com/idemq/idemq/adapters/http"
	"github.com/idemq/idemq/dedupe/redisstore"
)

// httpClients is how many clients send requests at once, each waiting for
// its answer before sending the next (as adapters/http/bench_test.go does).
const httpClients = 64

// Names of the HTTP rows.
const (
	httpBareRow  = "http/bare"
	httpIdemqRow = "http/idemq-redis"
)

// The request every client sends, and the header of its account (the
// middleware's scope).
const (
	orderBody     = `{"item":"book","qty":2}`
	accountHeader = "X-Account"
)

func httpRows(o options) []*row {
	h := func(name, note string, needs need, srv func(*services) *server, floor string, guarded bool) *row {
		lat := newLatencies()
		return &row{name: name, section: sectionHTTP, unit: "reqs/s", needs: needs, server: srv,
			baseline: httpBareRow, floor: floor, note: note, latency: lat, run: httpRun(guarded, o.messages, lat)}
	}
	return []*row{
		h(httpBareRow, "net/http's ServeMux, `POST /orders` the handler alone", 0, nil, "", false),
		h(httpIdemqRow, "the same route behind idemqhttp (claim-first, defaults, ScopeFunc from a request header) "+
			"on a redisstore.Store on Redis", needRedis, onRedis, floorName("redis", floorDepth), true),
	}
}

// httpRun serves the orders API on loopback and sends it requests POSTs,
// each with a new Idempotency-Key, from httpClients clients. Timed from
// the first POST to the last answer, after every client's connection was
// opened; the latency of each request is measured by its client.
func httpRun(guarded bool, requests int, lat *latencies) runFunc {
	return func(ctx context.Context, _ *services, rr rowRound) (timed, error) {
		api, err := startAPI(guarded, rr)
		if err != nil {
			return timed{}, err
		}
		defer api.close()
		took, elapsed, err := api.post(ctx, requests)
		if err != nil {
			return timed{}, err
		}
		if n := api.created.Load(); n != int64(requests) {
			return timed{}, fmt.Errorf("the handler ran %d times for %d requests", n, requests)
		}
		lat.record(rr.round, percentilesOf(took))
		return timed{elapsed: elapsed, items: requests}, nil
	}
}

// ordersAPI is one round's server: POST /orders, guarded or not, and
// GET /warm, which answers once every client has a request in flight.
type ordersAPI struct {
	srv     *httptest.Server
	store   *redisstore.Store // nil for the bare handler
	created atomic.Int64      // runs of the orders handler
	warm    atomic.Int64      // GET /warm requests received
	allWarm chan struct{}     // closed by the httpClients-th of them
}

func startAPI(guarded bool, rr rowRound) (*ordersAPI, error) {
	api := &ordersAPI{allWarm: make(chan struct{})}
	var orders http.Handler = http.HandlerFunc(api.createOrder)
	if guarded {
		store, err := redisstore.New(rr.server.client, redisstore.WithPrefix(rr.prefix))
		if err != nil {
			return nil, err
		}
		idem, err := idemqhttp.New(store, idemqhttp.Config{
			ScopeFunc: func(r *http.Request) string { return r.Header.Get(accountHeader) },
		})
		if err != nil {
			_ = store.Close()
			return nil, err
		}
		api.store, orders = store, idem.Handler(orders)
	}
	mux := http.NewServeMux()
	mux.Handle("POST /orders", orders)
	mux.HandleFunc("GET /warm", api.waitWarm)
	api.srv = httptest.NewServer(mux)
	api.srv.Client().Transport.(*http.Transport).MaxIdleConnsPerHost = httpClients
	return api, nil
}

func (api *ordersAPI) close() {
	api.srv.Close()
	if api.store != nil {
		_ = api.store.Close()
	}
}

// createOrder reads the body and answers 201 with a Location and a small
// JSON body, as a create does.
func (api *ordersAPI) createOrder(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	id := strconv.FormatInt(api.created.Add(1), 10)
	w.Header().Set("Location", "/orders/"+id)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	_, _ = io.WriteString(w, `{"id":`+id+`,"status":"created"}`)
}

// waitWarm answers once httpClients warm-up requests are in flight at
// once: each has a connection of its own, which the clients then reuse.
func (api *ordersAPI) waitWarm(w http.ResponseWriter, r *http.Request) {
	if api.warm.Add(1) == httpClients {
		close(api.allWarm)
	}
	select {
	case <-api.allWarm:
		w.WriteHeader(http.StatusNoContent)
	case <-r.Context().Done():
	}
}

// post opens every client's connection, then sends n POSTs from
// httpClients clients and returns each one's latency and the time they
// took together. The first failure ends the round.
func (api *ordersAPI) post(ctx context.Context, n int) ([]time.Duration, time.Duration, error) {
	if err := api.together(ctx, func(ctx context.Context) error { return api.send(ctx, http.MethodGet, "/warm", "") }); err != nil {
		return nil, 0, fmt.Errorf("warming up: %w", err)
	}
	took := make([]time.Duration, n)
	var next atomic.Int64
	start := time.Now()
	err := api.together(ctx, func(ctx context.Context) error {
		for i := next.Add(1) - 1; i < int64(n); i = next.Add(1) - 1 {
			t0 := time.Now()
			if err := api.send(ctx, http.MethodPost, "/orders", `"order-`+strconv.FormatInt(i, 10)+`"`); err != nil {
				return err
			}
			took[i] = time.Since(t0)
		}
		return nil
	})
	return took, time.Since(start), err
}

// together runs client in httpClients goroutines and returns the first
// error, which cancels the others.
func (api *ordersAPI) together(ctx context.Context, client func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	for range httpClients {
		wg.Go(func() {
			if err := client(ctx); err != nil {
				cancel(err)
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// send sends one request and reads its answer: 204 for the warm-up, 201
// and not a replay for a POST (every key is new).
func (api *ordersAPI) send(ctx context.Context, method, path, key string) error {
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(orderBody)
	}
	req, err := http.NewRequestWithContext(ctx, method, api.srv.URL+path, body)
	if err != nil {
		return err
	}
	if key != "" {
		req.Header.Set(idemqhttp.DefaultHeader, key)
		req.Header.Set(accountHeader, "acct-7")
	}
	res, err := api.srv.Client().Do(req)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	want := http.StatusCreated
	if method == http.MethodGet {
		want = http.StatusNoContent
	}
	switch {
	case err != nil:
		return fmt.Errorf("%s %s: reading the answer: %w", method, path, err)
	case res.StatusCode != want:
		return fmt.Errorf("%s %s: %s, want %d", method, path, res.Status, want)
	case res.Header.Get(idemqhttp.ReplayedHeader) != "":
		return fmt.Errorf("%s %s: a replay for the new key %s", method, path, key)
	}
	return nil
}
