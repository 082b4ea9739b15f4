package main

import (
	"context"
	"testing"
	"time"

	"github.com/idemq/idemq/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestRun runs the example against the real Redis and checks what it
// prints: a 409 for the retry while charging, one charge, the 201, and
// the same 201 replayed.
func TestRun(t *testing.T) {
	srv := testenv.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := testenv.Stdout(t, func() error { return run(ctx, srv.Addrs[0], srv.Prefix) })
	want := "retry while charging: 409 Conflict\n" +
		"charged\n" +
		"first: 201 Created /orders/1\n" +
		"retry: 201 Created /orders/1 (replayed)\n"
	if out != want {
		t.Errorf("the example printed %q, want %q", out, want)
	}
}
