package idemqhttp_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	idemqhttp "github.com/idemq/idemq/adapters/http"
	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
)

// TestKeyErrors: a guarded request without a key, or with a malformed
// one, gets 400 and runs nothing; a quoted and a bare key are the same
// key.
func TestKeyErrors(t *testing.T) {
	t.Parallel()
	h := &orders{}
	m := newMiddleware(t, memoryStore(t), idemqhttp.Config{})
	srv := serve(t, m.Handler(h))

	wantProblem(t, do(t, srv, request{noKey: true}), http.StatusBadRequest, idemqhttp.ProblemKeyMissing)
	for _, key := range []string{
		`""`, `"abc`, `"a"b"`, `"a\x"`, `"a";p=1`, `a b`, `a"b`, "\"caf\xc3\xa9\"",
		strings.Repeat("k", idemqhttp.MaxKeyLen+1),
	} {
		wantProblem(t, do(t, srv, request{key: key}), http.StatusBadRequest, idemqhttp.ProblemKeyInvalid)
	}
	twice, err := http.NewRequest(http.MethodPost, srv.URL+"/orders", nil)
	if err != nil {
		t.Fatal(err)
	}
	twice.Header.Add("Idempotency-Key", "a")
	twice.Header.Add("Idempotency-Key", "b")
	res, err := srv.Client().Do(twice)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("a key sent twice: status %d, want 400", res.StatusCode)
	}
	if n := h.charges.Load(); n != 0 {
		t.Fatalf("charges = %d after bad keys, want 0", n)
	}
	if s := m.Stats(); s.KeyErrors != 11 {
		t.Errorf("Stats.KeyErrors = %d, want 11", s.KeyErrors)
	}

	longest := strings.Repeat("k", idemqhttp.MaxKeyLen)
	for _, key := range []string{`"8e03978e-40d5"`, longest} {
		if got := do(t, srv, request{key: key}); got.status != http.StatusCreated || got.replayed() {
			t.Errorf("key %.20q: %d, replayed %v; want a fresh 201", key, got.status, got.replayed())
		}
	}
	bare := do(t, srv, request{key: "8e03978e-40d5"})
	escaped := do(t, srv, request{key: `"8e03978e-40d5"`})
	if !bare.replayed() || !escaped.replayed() {
		t.Errorf("the bare key replayed %v, the quoted one %v; want both to replay the quoted one's response", bare.replayed(), escaped.replayed())
	}
}

// TestMissingKeyProcess: under consumer.KeyProcess a request without a
// key runs unguarded, every time; a malformed key is still a 400.
func TestMissingKeyProcess(t *testing.T) {
	t.Parallel()
	h := &orders{}
	m := newMiddleware(t, memoryStore(t), idemqhttp.Config{MissingKey: consumer.KeyProcess})
	srv := serve(t, m.Handler(h))
	for range 2 {
		if got := do(t, srv, request{noKey: true}); got.status != http.StatusCreated || got.replayed() {
			t.Errorf("no key: %d, replayed %v; want 201 from the handler", got.status, got.replayed())
		}
	}
	wantProblem(t, do(t, srv, request{key: `"open`}), http.StatusBadRequest, idemqhttp.ProblemKeyInvalid)
	if n, s := h.charges.Load(), m.Stats(); n != 2 || s.Unguarded != 2 {
		t.Errorf("charges %d, Stats.Unguarded %d; want 2 and 2", n, s.Unguarded)
	}
}

// TestMethods: methods outside Config.Methods pass through untouched (no
// key needed, never replayed); listed ones are guarded.
func TestMethods(t *testing.T) {
	t.Parallel()
	h := &orders{}
	srv := serve(t, newMiddleware(t, memoryStore(t), idemqhttp.Config{}).Handler(h))
	for _, method := range []string{http.MethodGet, http.MethodPut, http.MethodDelete} {
		for range 2 {
			if got := do(t, srv, request{method: method, key: "k1"}); got.status != http.StatusCreated || got.replayed() {
				t.Errorf("%s: %d, replayed %v; want the handler's 201", method, got.status, got.replayed())
			}
		}
	}
	if n := h.charges.Load(); n != 6 {
		t.Errorf("charges = %d, want 6", n)
	}
	put := serve(t, newMiddleware(t, memoryStore(t), idemqhttp.Config{Methods: []string{http.MethodPut}}).Handler(h))
	do(t, put, request{method: http.MethodPut, key: "k1"})
	if got := do(t, put, request{method: http.MethodPut, key: "k1"}); !got.replayed() {
		t.Error("PUT in Config.Methods: the retry was not replayed")
	}
	if got := do(t, put, request{key: "k1"}); got.replayed() {
		t.Error("POST outside Config.Methods was replayed")
	}
}

// TestScope: two clients with the same key each run once and each get
// their own response back.
func TestScope(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, store dedupe.Store) {
		h := &orders{}
		srv := serve(t, newMiddleware(t, store, idemqhttp.Config{
			ScopeFunc: func(r *http.Request) string { return r.Header.Get("X-Account") },
		}).Handler(h))
		alice := map[string]string{"X-Account": "alice"}
		bob := map[string]string{"X-Account": "bob"}
		a := do(t, srv, request{key: "k1", body: "x", header: alice})
		b := do(t, srv, request{key: "k1", body: "x", header: bob})
		if a.status != http.StatusCreated || b.status != http.StatusCreated || b.replayed() || a.body == b.body {
			t.Fatalf("alice %d %q, bob %d %q replayed %v: want two fresh 201s", a.status, a.body, b.status, b.body, b.replayed())
		}
		wantSameResponse(t, do(t, srv, request{key: "k1", body: "x", header: alice}), a)
		wantSameResponse(t, do(t, srv, request{key: "k1", body: "x", header: bob}), b)
		if n := h.charges.Load(); n != 2 {
			t.Errorf("charges = %d, want 2", n)
		}
	})
}

// TestBody: the handler reads the whole body; the fingerprint covers all
// of it up to MaxBodyBytes (a change in the last byte is a 422); a larger
// body, with or without a Content-Length, gets 413 and claims nothing.
func TestBody(t *testing.T) {
	t.Parallel()
	const limit = 1 << 10
	got := make(chan string, 10)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil || int64(len(body)) != r.ContentLength {
			t.Errorf("handler read %d bytes (Content-Length %d): %v", len(body), r.ContentLength, err)
		}
		got <- fmt.Sprintf("%x", sha256.Sum256(body))
		w.WriteHeader(http.StatusCreated)
	})
	m := newMiddleware(t, memoryStore(t), idemqhttp.Config{MaxBodyBytes: limit})
	srv := serve(t, m.Handler(h))

	full := bytes.Repeat([]byte("b"), limit)
	if res := do(t, srv, request{key: "k1", body: string(full)}); res.status != http.StatusCreated {
		t.Fatalf("a body at the limit: %d, want 201", res.status)
	}
	if sum := await(t, got, "the handler"); sum != fmt.Sprintf("%x", sha256.Sum256(full)) {
		t.Error("the handler did not get the body as sent")
	}
	changed := bytes.Clone(full)
	changed[limit-1] = 'c'
	wantProblem(t, do(t, srv, request{key: "k1", body: string(changed)}), http.StatusUnprocessableEntity, idemqhttp.ProblemKeyReused)

	over := string(full) + "b"
	wantProblem(t, do(t, srv, request{key: "k2", body: over}), http.StatusRequestEntityTooLarge, idemqhttp.ProblemBodyTooLarge)
	chunked, err := http.NewRequest(http.MethodPost, srv.URL, io.MultiReader(strings.NewReader(over))) // no Content-Length
	if err != nil {
		t.Fatal(err)
	}
	chunked.Header.Set("Idempotency-Key", "k2")
	res, err := srv.Client().Do(chunked)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if chunked.ContentLength != 0 || res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a chunked body over the limit: Content-Length %d, status %d; want unknown (0) and 413", chunked.ContentLength, res.StatusCode)
	}
	if res := do(t, srv, request{key: "k2", body: "small"}); res.status != http.StatusCreated || res.replayed() {
		t.Errorf("the key of a 413 is not free: %d, replayed %v", res.status, res.replayed())
	}
}

// TestPatterns: behind Go 1.22 ServeMux patterns the handler sees its
// path values; keys are checked per route.
func TestPatterns(t *testing.T) {
	t.Parallel()
	m := newMiddleware(t, memoryStore(t), idemqhttp.Config{})
	var runs atomic.Int64
	mux := http.NewServeMux()
	mux.Handle("POST /orders/{id}/pay", m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		runs.Add(1)
		fmt.Fprintf(w, "paid %s", r.PathValue("id"))
	})))
	srv := serve(t, mux)
	first := do(t, srv, request{path: "/orders/42/pay", key: "p1"})
	again := do(t, srv, request{path: "/orders/42/pay", key: "p1"})
	if first.body != "paid 42" || !again.replayed() || again.body != "paid 42" || runs.Load() != 1 {
		t.Errorf("first %q, again %q replayed %v, runs %d; want paid 42 twice, one run", first.body, again.body, again.replayed(), runs.Load())
	}
}
