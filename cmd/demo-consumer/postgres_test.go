package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/idemq/idemq/internal/testenv"
)

// TestPostgres runs -postgres with a small N against the real Redis and
// PostgreSQL of `make test` (Kafka in-process): in each phase consumer 1
// crashes right after an effect and before its commit, every connection
// cut. It asserts what that crash makes certain: plain kafka-go doubles
// (the workload's duplicates, and the crashed effect redelivered), idemq on
// Redis runs the crashed effect again once its claim's lease ran out (its
// commit never reached Redis) and loses nothing, idemq on PostgreSQL rolls
// the crashed effect back with the key and does every effect exactly once.
func TestPostgres(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	cfg := smallConfig()
	cfg.Redis, cfg.Prefix, cfg.Postgres, cfg.Compare = srv.Addrs[0], srv.Prefix, testenv.PostgresURL(t), true
	var out bytes.Buffer
	r, err := run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	t.Logf("report:\n%s", out.String())
	if len(r.phases) != 3 {
		t.Fatalf("phases = %d, want 3", len(r.phases))
	}
	plain, onRedis, onPG := r.phases[0], r.phases[1], r.phases[2]
	for _, p := range r.phases {
		assertCrashPhase(t, r, p)
	}
	if plain.tally.more == 0 {
		t.Errorf("%s: keys with more than 1 entry = 0, want > 0", plain.title)
	}
	if onRedis.tally.more == 0 {
		t.Errorf("%s: keys with more than 1 entry = 0, want > 0 (the crashed effect's commit never reached Redis)", onRedis.title)
	}
	if got, want := onPG.tally.once, r.uniqueKeys; got != want || onPG.tally.more != 0 {
		t.Errorf("%s: keys with exactly 1 entry = %d, with more = %d; want %d, 0", onPG.title, got, onPG.tally.more, want)
	}
	if onPG.effects <= int64(r.uniqueKeys) {
		t.Errorf("%s: handler runs = %d, want more than %d (the crashed one was rolled back and run again)", onPG.title, onPG.effects, r.uniqueKeys)
	}
	if !r.passed() {
		t.Errorf("passed() = false, want true")
	}
	if !strings.Contains(out.String(), "PASS idemq (PostgreSQL)") {
		t.Errorf("output has no PASS verdict for idemq (PostgreSQL)")
	}
}

// assertCrashPhase checks what every phase of -postgres must end with: the
// crash right after an effect, no key lost, nothing else, no lag.
func assertCrashPhase(t *testing.T, r report, p phaseResult) {
	t.Helper()
	if !p.crashed {
		t.Errorf("%s: consumer 1 was not crashed right after an effect", p.title)
	}
	if p.tally.missing != 0 || p.tally.extra != 0 || p.lag != 0 {
		t.Errorf("%s: keys without entry = %d, unknown keys = %d, lag = %d; want 0, 0, 0", p.title, p.tally.missing, p.tally.extra, p.lag)
	}
	if got, want := p.tally.once+p.tally.more, r.uniqueKeys; got != want {
		t.Errorf("%s: keys with entries = %d, want %d", p.title, got, want)
	}
}
