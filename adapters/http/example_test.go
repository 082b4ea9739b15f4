package idemqhttp_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	idemqhttp "github.com/idemq/idemq/adapters/http"
	"github.com/idemq/idemq/dedupe"
)

// A retry with the same Idempotency-Key gets the first response back,
// marked as a replay; the handler charged once. (Across instances, use a
// redisstore.Store instead of the MemoryStore.)
func Example() {
	store := dedupe.NewMemoryStore()
	defer store.Close()
	idem, err := idemqhttp.New(store, idemqhttp.Config{
		ScopeFunc: func(r *http.Request) string { return r.Header.Get("X-Account") },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	charges := 0
	mux := http.NewServeMux()
	mux.Handle("POST /orders", idem.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		charges++
		w.Header().Set("Location", "/orders/1")
		w.WriteHeader(http.StatusCreated)
	})))

	for range 2 {
		req := httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader(`{"total": 42}`))
		req.Header.Set("Idempotency-Key", `"8e03978e-40d5-43e8-bc93-6894a57f9324"`)
		req.Header.Set("X-Account", "acct-1")
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		fmt.Println(w.Code, w.Header().Get("Location"), "replayed:", w.Header().Get(idemqhttp.ReplayedHeader) == "true")
	}
	fmt.Println("charges:", charges)
	// Output:
	// 201 /orders/1 replayed: false
	// 201 /orders/1 replayed: true
	// charges: 1
}

// A request without the key, or with another body under a used key, gets
// an application/problem+json error.
func Example_problems() {
	store := dedupe.NewMemoryStore()
	defer store.Close()
	idem, err := idemqhttp.New(store, idemqhttp.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	h := idem.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusCreated)
	}))
	for _, tc := range []struct{ key, body string }{{"", "a"}, {"k1", "a"}, {"k1", "b"}} {
		req := httptest.NewRequest(http.MethodPost, "/orders", strings.NewReader(tc.body))
		if tc.key != "" {
			req.Header.Set("Idempotency-Key", tc.key)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		fmt.Println(strings.TrimSpace(fmt.Sprint(w.Code, " ", w.Header().Get("Content-Type"))))
	}
	// Output:
	// 400 application/problem+json
	// 201
	// 422 application/problem+json
}
