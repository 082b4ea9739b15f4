package main

import (
	"context"
	"testing"
	"time"

	"github.com/idemq/idemq/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestRun runs the example against the real Redis and checks what it
// prints: placed once, then a duplicate.
func TestRun(t *testing.T) {
	srv := testenv.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := testenv.Stdout(t, func() error { return run(ctx, srv.Addrs[0], srv.Prefix) })
	if want := "placed order-1\nduplicate: already done as order-1\n"; out != want {
		t.Errorf("the example printed %q, want %q", out, want)
	}
}
