package main

import (
	"context"
	"testing"
	"time"

	"github.com/idemq/idemq/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// TestRun runs the example against the real services and checks what it
// prints: the order charged once, the redelivery a duplicate.
func TestRun(t *testing.T) {
	k, srv := testenv.Kafka(t), testenv.Redis(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	topic := testenv.Name(t)
	k.DeleteAtCleanup(t, topic)
	out := testenv.Stdout(t, func() error { return run(ctx, k.Brokers[0], srv.Addrs[0], topic, srv.Prefix) })
	if want := "charged order-1\nduplicate: receipt for order-1\n"; out != want {
		t.Errorf("the example printed %q, want %q", out, want)
	}
}
