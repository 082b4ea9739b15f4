package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idemq/idemq/internal/testenv"
)

// TestChaosShort runs the short chaos run (`make chaos-short`) against the
// services of `make services`: it fails on a lost message, an unexplained
// double effect, doubles over the bound, or a data race in a worker. The
// run's binary is built as this test is (with -race under `make test`:
// the dependencies' race builds are then cached, and the workers run
// under the race detector too) and run as a subprocess.
func TestChaosShort(t *testing.T) {
	requireServices(t)
	if _, err := exec.LookPath("redis-server"); err != nil {
		testenv.Missing(t, "a redis-server binary", "PATH", err.Error())
	}
	runChaos(t, "-short")
}

// TestChaosPostgresShort is TestChaosShort with -store postgres (`make
// chaos-postgres-short`): the consumers keep their keys in a PostgreSQL of
// the run's own and write each effect as a row in the handler's
// transaction; it fails on a key without a row, a key with two, or lag.
func TestChaosPostgresShort(t *testing.T) {
	requireServices(t)
	bin := defaultConfig().PGBin
	for _, name := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			testenv.Missing(t, "PostgreSQL's binaries", bin, err.Error())
		}
	}
	runChaos(t, "-short", "-store", "postgres")
}

// runChaos builds the chaos binary as this test is built (with -race under
// `make test`: the dependencies' race builds are then cached, and the
// workers run under the race detector too), runs it with args as a
// subprocess, and fails unless it passes.
func runChaos(t *testing.T, args ...string) {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "chaos")
	build := []string{"build", "-o", bin}
	if raceEnabled {
		build = append(build, "-race")
	}
	start := time.Now()
	if out, err := exec.Command("go", append(build, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built the chaos binary (race detector: %v) in %v", raceEnabled, time.Since(start).Round(100*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = 10 * time.Second
	start = time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("chaos %s took %v:\n%s", strings.Join(args, " "), time.Since(start).Round(100*time.Millisecond), out)
	if err != nil {
		t.Fatalf("chaos %s: %v (its report is above)", strings.Join(args, " "), err)
	}
	if !strings.Contains(string(out), "\nPASS: ") {
		t.Fatalf("chaos %s exited 0 without its PASS line", strings.Join(args, " "))
	}
}

// requireServices skips the test without the services of `make services`
// (Kafka with the CHAOS listener), or fails it when
// IDEMQ_REQUIRE_SERVICES=1.
func requireServices(t *testing.T) {
	t.Helper()
	if os.Getenv("IDEMQ_KAFKA_BROKERS") == "" {
		testenv.Missing(t, "Kafka with the CHAOS listener", "IDEMQ_KAFKA_BROKERS", "the variable is unset")
	}
}
