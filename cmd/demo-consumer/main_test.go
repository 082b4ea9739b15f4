package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/idemq/idemq/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// smallConfig is the demo with a small workload that still has every
// ingredient: duplicates on the same and on other partitions, three
// consumers, one stopped abruptly at 40%.
func smallConfig() config {
	cfg := defaultConfig()
	cfg.Messages = 600
	cfg.Timeout = 60 * time.Second
	return cfg
}

// TestEmbedded runs `make demo` as it is, with a small N: an in-process
// broker and Redis, the plain kafka-go comparison, then idemq's Kafka
// adapter.
func TestEmbedded(t *testing.T) {
	t.Parallel()
	cfg := smallConfig()
	cfg.Compare = true
	assertDemo(t, cfg)
}

// TestEmbeddedWatermill runs -mode watermill in-process.
func TestEmbeddedWatermill(t *testing.T) {
	t.Parallel()
	cfg := smallConfig()
	cfg.Mode, cfg.Compare = modeWatermill, false
	assertDemo(t, cfg)
}

// TestRealServices runs the demo against the real Kafka and Redis of
// `make test`, with a topic, group and key prefix of its own.
func TestRealServices(t *testing.T) {
	t.Parallel()
	cfg := realConfig(t)
	cfg.Compare = true
	assertDemo(t, cfg)
}

func TestRealServicesWatermill(t *testing.T) {
	t.Parallel()
	cfg := realConfig(t)
	cfg.Mode, cfg.Compare = modeWatermill, false
	assertDemo(t, cfg)
}

func realConfig(t *testing.T) config {
	k, srv := testenv.Kafka(t), testenv.Redis(t)
	cfg := smallConfig()
	cfg.Brokers, cfg.Redis = strings.Join(k.Brokers, ","), srv.Addrs[0]
	cfg.Topic, cfg.Group, cfg.Prefix = testenv.Name(t), k.Group(t), srv.Prefix
	return cfg
}

// assertDemo runs the demo and checks its report: with idemq every key
// has exactly one ledger entry and the lag is 0; without it (-compare)
// some keys have more than one.
func assertDemo(t *testing.T, cfg config) {
	t.Helper()
	var out bytes.Buffer
	r, err := run(context.Background(), cfg, &out)
	if err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, out.String())
	}
	t.Logf("report:\n%s", out.String())
	if !r.passed() {
		t.Errorf("passed() = false, want true")
	}
	wantPhases := 1
	if cfg.Compare {
		wantPhases = 2
	}
	if len(r.phases) != wantPhases {
		t.Fatalf("phases = %d, want %d", len(r.phases), wantPhases)
	}
	for _, p := range r.phases {
		assertPhase(t, r, p)
	}
	if !strings.Contains(out.String(), "PASS ") {
		t.Errorf("output has no PASS verdict")
	}
}

func assertPhase(t *testing.T, r report, p phaseResult) {
	t.Helper()
	if p.lag != 0 {
		t.Errorf("%s: group lag = %d, want 0", p.title, p.lag)
	}
	if p.tally.missing != 0 || p.tally.extra != 0 {
		t.Errorf("%s: keys without entry = %d, unknown keys = %d; want 0, 0", p.title, p.tally.missing, p.tally.extra)
	}
	if !p.guarded {
		if p.tally.more == 0 {
			t.Errorf("%s: keys with more than 1 entry = 0, want > 0 (duplicates are not deduplicated)", p.title)
		}
		return
	}
	if got, want := p.tally.once, r.uniqueKeys; got != want {
		t.Errorf("%s: keys with exactly 1 entry = %d, want %d", p.title, got, want)
	}
	if got, want := p.effects, int64(r.uniqueKeys); got != want {
		t.Errorf("%s: handler runs = %d, want %d", p.title, got, want)
	}
	if got, min := p.duplicates, int64(r.produced-r.uniqueKeys); got < min {
		t.Errorf("%s: duplicates acked = %d, want at least %d", p.title, got, min)
	}
	if p.rebalances < 1 {
		t.Errorf("%s: rebalances = %d, want at least 1 (a consumer was stopped, another joined)", p.title, p.rebalances)
	}
}
