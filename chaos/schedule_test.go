package main

import (
	"io"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestScheduleIsDeterministicAndFits(t *testing.T) {
	t.Parallel()
	g := groups{kafka: []string{"k1", "k2", "k3"}, routers: []string{"w1", "w2"}, franz: []string{"f1", "f2"}}
	configs := []config{defaultConfig(), shortConfig(), withDensity(defaultConfig(), 12)}
	for _, c := range configs[:3] {
		c.Store = storePostgres
		configs = append(configs, c)
	}
	for _, cfg := range configs {
		for _, g := range []groups{g, {kafka: g.kafka, franz: g.franz}, {kafka: g.kafka, routers: g.routers}} {
			for seed := uint64(1); seed <= 50; seed++ {
				faults := schedule(rand.New(rand.NewPCG(seed, 1)), cfg, g.kafka, g.routers, g.franz)
				if again := schedule(rand.New(rand.NewPCG(seed, 1)), cfg, g.kafka, g.routers, g.franz); !slices.Equal(again, faults) {
					t.Fatalf("seed %d: two schedules differ", seed)
				}
				checkSchedule(t, cfg, seed, faults, g)
			}
		}
	}
}

// TestScheduleFaultsFlag checks that -faults picks the kinds: each one
// given, as many times, and nothing else.
func TestScheduleFaultsFlag(t *testing.T) {
	t.Parallel()
	cfg := defaultConfig()
	cfg.Faults = []faultKind{faultRedisFreeze, faultKill, faultRedisFreeze}
	for seed := uint64(1); seed <= 20; seed++ {
		faults := schedule(rand.New(rand.NewPCG(seed, 1)), cfg, []string{"k1", "k2", "k3"}, nil, nil)
		if len(faults) != 3 || countKind(faults, faultRedisFreeze) != 2 || countKind(faults, faultKill) != 1 {
			t.Fatalf("seed %d: -faults redis-freeze,SIGKILL,redis-freeze scheduled %v, want those 3", seed, faults)
		}
	}
}

// TestParseFlagsStore checks -store: redis or postgres, and -faults only
// of that store's kinds.
func TestParseFlagsStore(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		ok   bool
	}{
		{[]string{"-store", "postgres"}, true},
		{[]string{"-store", "postgres", "-faults", "pg-restart,pg-terminate,SIGKILL,kafka-freeze,pg-freeze,pg-cut,pg-commit-lost"}, true},
		{[]string{"-store", "postgres", "-faults", "redis-crash"}, false},
		{[]string{"-faults", "pg-restart"}, false},
		{[]string{"-store", "mysql"}, false},
	} {
		cfg, err := parseFlags(tc.args, io.Discard)
		if got := err == nil; got != tc.ok {
			t.Errorf("parseFlags(%q) error = %v, want ok %v", tc.args, err, tc.ok)
		}
		if err == nil && cfg.Store != tc.args[1] && tc.args[0] == "-store" {
			t.Errorf("parseFlags(%q): Store = %q, want %q", tc.args, cfg.Store, tc.args[1])
		}
	}
}

func countKind(faults []fault, k faultKind) int {
	n := 0
	for _, f := range faults {
		if f.kind == k {
			n++
		}
	}
	return n
}

func withDensity(c config, perMinute float64) config {
	c.Density = perMinute
	return c
}

// groups are the members of each group of a schedule.
type groups struct{ kafka, routers, franz []string }

func (g groups) roleOf(member string) string {
	switch {
	case slices.Contains(g.kafka, member):
		return roleKafka
	case slices.Contains(g.routers, member):
		return roleWatermill
	case slices.Contains(g.franz, member):
		return roleFranz
	}
	return ""
}

func checkSchedule(t *testing.T, cfg config, seed uint64, faults []fault, g groups) {
	t.Helper()
	want := len(defaultFaults)
	switch {
	case cfg.Density > 0:
		want = int(cfg.Density * cfg.Duration.Minutes())
	case cfg.Short && cfg.postgres():
		want = len(pgShortFaults)
	case cfg.Short:
		want = len(shortFaults)
	case cfg.postgres():
		want = len(pgFaults)
	}
	if len(faults) != want && (cfg.Density == 0 || len(faults) > want || len(faults) < 10) {
		t.Fatalf("seed %d: %d faults, want %d", seed, len(faults), want)
	}
	for i, f := range faults {
		if !f.kind.fits(cfg.Store) {
			t.Errorf("seed %d: fault %d is a %s in a run of -store %s", seed, i, f.kind, cfg.Store)
		}
	}
	if pauses := countKind(faults, faultRedisPause); cfg.Density == 0 && !cfg.Short && !cfg.postgres() && pauses != 1 {
		t.Errorf("seed %d: %d Redis write pauses in the default run, want 1", seed, pauses)
	}
	// The first SIGKILLs hit each group in turn; every other SIGKILL of an
	// adapter's consumer, the first included, comes after a burst on its topic.
	var order [][]string
	for _, members := range [][]string{g.kafka, g.routers, g.franz} {
		if len(members) > 0 {
			order = append(order, members)
		}
	}
	kills, killsOf := 0, map[string]int{}
	for i, f := range faults {
		if f.at < scheduleLead || f.at > time.Duration(float64(cfg.Duration)*(1-scheduleTail)) {
			t.Errorf("seed %d: fault %d (%s) at %v, outside the window", seed, i, f.kind, f.at)
		}
		if i > 0 && f.at < faults[i-1].at+faults[i-1].dur+minFaultDistance {
			t.Errorf("seed %d: fault %d at %v overlaps fault %d (%v + %v)", seed, i, f.at, i-1, faults[i-1].at, faults[i-1].dur)
		}
		if i > 0 && f.at < faults[i-1].at+faults[i-1].dur+minFaultDistance+max(f.quiet, faults[i-1].quiet) {
			t.Errorf("seed %d: fault %d (%s) at %v is within the quiet time of fault %d (%s, %v + %v)", seed, i, f.kind, f.at, i-1, faults[i-1].kind, faults[i-1].at, faults[i-1].dur)
		}
		if f.kind == faultRedisPause && (f.dur < pauseMin || f.dur > pauseMax || f.quiet != pauseQuiet || f.burst == 0 || f.burstTo != roleKafka) {
			t.Errorf("seed %d: a write pause of %v with quiet %v and a burst of %d on %q, want %v to %v with %v and a burst on the Kafka adapter's topic",
				seed, f.dur, f.quiet, f.burst, f.burstTo, pauseMin, pauseMax, pauseQuiet)
		}
		if f.kind != faultKill {
			continue
		}
		if kills < len(order) && !slices.Contains(order[kills], f.victim) {
			t.Errorf("seed %d: SIGKILL %d hits %s, want one of %v", seed, kills+1, f.victim, order[kills])
		}
		role := g.roleOf(f.victim)
		if want := role != roleWatermill && killsOf[role]%2 == 0; (f.burst > 0) != want || want && f.burstTo != role {
			t.Errorf("seed %d: SIGKILL %d of %s (%s) has a burst of %d on %q's topic, want a burst on its own: %v",
				seed, kills+1, f.victim, role, f.burst, f.burstTo, want)
		}
		kills++
		killsOf[role]++
	}
}

func TestDue(t *testing.T) {
	t.Parallel()
	bursts := []burst{{at: 5 * time.Second, n: 100}, {at: 8 * time.Second, n: 100}}
	for _, tc := range []struct {
		t    time.Duration
		want int
	}{
		{0, 0}, {4 * time.Second, 320}, {5 * time.Second, 500}, {8 * time.Second, 840}, {10 * time.Second, 1000}, {time.Minute, 1000},
	} {
		if got := due(1000, bursts, 10*time.Second, tc.t); got != tc.want {
			t.Errorf("due at %v = %d, want %d", tc.t, got, tc.want)
		}
	}
}
