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
	bin := filepath.Join(t.TempDir(), "chaos")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	start := time.Now()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Logf("built the chaos binary (race detector: %v) in %v", raceEnabled, time.Since(start).Round(100*time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-short")
	cmd.WaitDelay = 10 * time.Second
	start = time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("chaos -short took %v:\n%s", time.Since(start).Round(100*time.Millisecond), out)
	if err != nil {
		t.Fatalf("chaos -short: %v (its report is above)", err)
	}
	if !strings.Contains(string(out), "\nPASS: ") {
		t.Fatalf("chaos -short exited 0 without its PASS line")
	}
}

// requireServices skips the test without the services of `make services`
// (Kafka with the CHAOS listener, a redis-server binary), or fails it when
// IDEMQ_REQUIRE_SERVICES=1.
func requireServices(t *testing.T) {
	t.Helper()
	if os.Getenv("IDEMQ_KAFKA_BROKERS") == "" {
		testenv.Missing(t, "Kafka with the CHAOS listener", "IDEMQ_KAFKA_BROKERS", "the variable is unset")
	}
	if _, err := exec.LookPath("redis-server"); err != nil {
		testenv.Missing(t, "a redis-server binary", "PATH", err.Error())
	}
}
