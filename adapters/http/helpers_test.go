package idemqhttp_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	idemqhttp "github.com/idemq/idemq/adapters/http"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

// eachStore runs test on a MemoryStore and on a store on the real Redis,
// as parallel subtests "memory" and "redis". The Redis store's prefix
// belongs to t.
func eachStore(t *testing.T, test func(t *testing.T, store dedupe.Store)) {
	t.Helper()
	srv := testenv.Redis(t)
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		test(t, memoryStore(t))
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		test(t, redisStore(t, srv))
	})
}

func memoryStore(t testing.TB) *dedupe.MemoryStore {
	s := dedupe.NewMemoryStore()
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// redisStore returns a store on its own client of srv (one "process").
func redisStore(t testing.TB, srv testenv.RedisServer) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(srv.NewClient(t), redisstore.WithPrefix(srv.Prefix))
	if err != nil {
		t.Fatalf("redisstore.New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// newMiddleware builds a Middleware or fails the test.
func newMiddleware(t testing.TB, store dedupe.Store, cfg idemqhttp.Config) *idemqhttp.Middleware {
	t.Helper()
	m, err := idemqhttp.New(store, cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return m
}

// serve starts a real HTTP server with h, closed at the end of the test;
// handler panics are not logged.
func serve(t testing.TB, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// orders is the handler of the tests: each run charges once (counted),
// answers 201 with a Location, a JSON body, and a cookie and a trace
// header that are not replayed.
type orders struct {
	charges atomic.Int64
}

func (o *orders) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := o.charges.Add(1)
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Location", fmt.Sprintf("/orders/%d", n))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Set-Cookie", "session=1")
	w.Header().Set("X-Trace", fmt.Sprint(n))
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, `{"order":%d,"request":%q}`, n, body)
}

// result is what a client got.
type result struct {
	status int
	header http.Header
	body   string
}

func (r result) replayed() bool { return r.header.Get(idemqhttp.ReplayedHeader) == "true" }

// request is one request of a test client.
type request struct {
	method, path, key, body string
	header                  map[string]string // more headers
	noKey                   bool              // send no Idempotency-Key
}

// do sends req to srv and returns what came back.
func do(t testing.TB, srv *httptest.Server, req request) result {
	t.Helper()
	res, err := send(context.Background(), srv, req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.method, req.path, err)
	}
	return res
}

func send(ctx context.Context, srv *httptest.Server, req request) (result, error) {
	if req.method == "" {
		req.method = http.MethodPost
	}
	if req.path == "" {
		req.path = "/orders"
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, srv.URL+req.path, strings.NewReader(req.body))
	if err != nil {
		return result{}, err
	}
	if !req.noKey {
		hr.Header.Set("Idempotency-Key", req.key)
	}
	for k, v := range req.header {
		hr.Header.Set(k, v)
	}
	res, err := srv.Client().Do(hr)
	if err != nil {
		return result{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return result{status: res.StatusCode, header: res.Header, body: string(body)}, err
}

// wantProblem checks that res is a problem+json of status and type.
func wantProblem(t testing.TB, res result, status int, typ string) idemqhttp.Problem {
	t.Helper()
	if res.status != status {
		t.Fatalf("status = %d, want %d (body %s)", res.status, status, res.body)
	}
	if ct := res.header.Get("Content-Type"); ct != idemqhttp.ProblemContentType {
		t.Errorf("Content-Type = %q, want %q", ct, idemqhttp.ProblemContentType)
	}
	var p idemqhttp.Problem
	if err := json.Unmarshal([]byte(res.body), &p); err != nil {
		t.Fatalf("problem body %q: %v", res.body, err)
	}
	if p.Type != typ || p.Status != status || p.Title == "" || p.Detail == "" {
		t.Errorf("problem = %+v, want type %s, status %d, a title and a detail", p, typ, status)
	}
	if res.replayed() {
		t.Error("a problem is marked as a replay")
	}
	return p
}

// wantSameResponse checks that got replays want: status, replayed headers
// and body equal.
func wantSameResponse(t testing.TB, got, want result) {
	t.Helper()
	if got.status != want.status || got.body != want.body {
		t.Errorf("replay = %d %q, want %d %q", got.status, got.body, want.status, want.body)
	}
	for _, h := range []string{"Location", "Content-Type"} {
		if got.header.Get(h) != want.header.Get(h) {
			t.Errorf("replay's %s = %q, want %q", h, got.header.Get(h), want.header.Get(h))
		}
	}
}

// blocking is a handler that signals when it started and answers only
// once released (201, with its run number), whatever its context says.
type blocking struct {
	runs    atomic.Int64
	started chan struct{} // one value per run
	release chan struct{} // closed to let every run answer
}

func newBlocking() *blocking {
	return &blocking{started: make(chan struct{}, 100), release: make(chan struct{})}
}

func (b *blocking) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := b.runs.Add(1)
	b.started <- struct{}{}
	<-b.release
	w.Header().Set("Location", fmt.Sprintf("/orders/%d", n))
	w.WriteHeader(http.StatusCreated)
	fmt.Fprintf(w, "run %d", n)
}

// await returns the value of ch, or fails the test after 10s.
func await[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		var zero T
		return zero
	}
}

// spyStore wraps a store to inject failures and report contention.
type spyStore struct {
	dedupe.Store
	commitErr error         // Commit fails with it
	lostLease bool          // Renew reports the claim gone
	contended chan struct{} // a value each time a Claim finds another owner's claim (if there is room)
}

func (s *spyStore) Claim(ctx context.Context, key, token string, lease time.Duration) (dedupe.Record, bool, error) {
	rec, claimed, err := s.Store.Claim(ctx, key, token, lease)
	if err == nil && !claimed && rec.State == dedupe.Claimed && s.contended != nil {
		select {
		case s.contended <- struct{}{}:
		default:
		}
	}
	return rec, claimed, err
}

func (s *spyStore) Renew(ctx context.Context, key, token string, lease time.Duration) (bool, error) {
	if s.lostLease {
		return false, nil
	}
	return s.Store.Renew(ctx, key, token, lease)
}

func (s *spyStore) Commit(ctx context.Context, key string, c dedupe.Commit) (dedupe.Record, bool, error) {
	if s.commitErr != nil {
		return dedupe.Record{}, false, s.commitErr
	}
	return s.Store.Commit(ctx, key, c)
}
