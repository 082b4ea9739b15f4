package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/idemq/idemq/internal/testenv"
)

// TestShortRun runs the program in -short mode, one round, against the real
// services, and checks that every row produced a positive figure and the
// report has every section. It skips without the services (fails with
// IDEMQ_REQUIRE_SERVICES=1), as every test of the repository does.
func TestShortRun(t *testing.T) {
	useServices(t)
	out := filepath.Join(t.TempDir(), "RESULTS.md")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := run(ctx, []string{"-short", "-rounds", "1", "-out", out}, testLog(t))
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if want := len(plan(res.opts)); len(res.rows) != want || want < 30 {
		t.Errorf("%d rows measured, want all %d", len(res.rows), want)
	}
	for _, r := range res.rows {
		checkRow(t, r)
	}
	checkReport(t, out, res)
}

// useServices resolves every service with testenv (which skips, or fails
// with IDEMQ_REQUIRE_SERVICES=1, when one is missing, and may start Redis
// and Kafka in containers) and hands the addresses to the program.
func useServices(t *testing.T) {
	t.Helper()
	redis, valkey, kafka := testenv.Redis(t), testenv.Valkey(t), testenv.Kafka(t)
	t.Setenv("IDEMQ_POSTGRES_URL", testenv.PostgresURL(t))
	t.Setenv("IDEMQ_REDIS_ADDR", redis.Addrs[0])
	t.Setenv("IDEMQ_VALKEY_ADDR", valkey.Addrs[0])
	t.Setenv("IDEMQ_KAFKA_BROKERS", strings.Join(kafka.Brokers, ","))
}

func checkRow(t *testing.T, r *row) {
	t.Helper()
	if len(r.errs) > 0 || len(r.samples) != 1 {
		t.Errorf("%s: %d samples, errors %v", r.name, len(r.samples), r.errs)
		return
	}
	s := r.samples[0]
	if s.rate <= 0 || s.items <= 0 || s.cpuPerItem <= 0 {
		t.Errorf("%s: rate %v, items %d, cpu %v µs/item: want all positive", r.name, s.rate, s.items, s.cpuPerItem)
	}
	if consumer := r.section == sectionKafka || r.section == sectionKafkaIO || r.section == sectionPostgres; consumer != (s.steadyRate > 0 && s.first > 0) {
		t.Errorf("%s: steady %v msgs/s, first message after %s: want both positive exactly for Kafka consumers",
			r.name, s.steadyRate, s.first)
	}
	if (r.server != nil) != (s.redis != nil) {
		t.Errorf("%s: server figures %v, want them exactly for rows with a server", r.name, s.redis)
	}
	if s.redis != nil && (s.redis.cpuPerKey <= 0 || s.redis.cmdsPerKey <= 0) {
		t.Errorf("%s: server %v µs/key, %v cmds/key: want both positive", r.name, s.redis.cpuPerKey, s.redis.cmdsPerKey)
	}
	if (r.section == sectionMemory) != (s.memory != nil) {
		t.Errorf("%s: memory figures %v, want them exactly for memory rows", r.name, s.memory)
	}
	if m := s.memory; m != nil && (m.record == "" || (m.disturbed == "" && m.perKey <= 0)) {
		t.Errorf("%s: %v bytes/key, record %q, disturbed %q: want a record, and a positive figure unless disturbed",
			r.name, m.perKey, m.record, m.disturbed)
	}
	if (r.keysDDL != nil) != (s.postgres != nil) {
		t.Errorf("%s: PostgreSQL figures %v, want them exactly for rows on PostgreSQL", r.name, s.postgres)
	}
	if d := s.postgres; d != nil && (d.commitsPerMsg < 1 || d.walPerMsg <= 0) {
		t.Errorf("%s: %v commits/msg, %v WAL B/msg: want at least one commit per message and some WAL", r.name,
			d.commitsPerMsg, d.walPerMsg)
	}
}

func checkReport(t *testing.T, path string, res *results) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	for _, want := range []string{"# idemq benchmark results", res.opts.commandLine(), "## Kafka consumers",
		"## Kafka consumers whose handler does I/O",
		"## Kafka consumers with their effects in PostgreSQL", "## Batch path", "## Watermill middleware", "## HTTP middleware", "## Server memory per committed key", "## Targets",
		"From the first message to the last"} {
		if !strings.Contains(text, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	for _, r := range res.rows {
		if !strings.Contains(text, "| `"+r.name+"` | ") {
			t.Errorf("the report has no table row %s", r.name)
		}
	}
	if strings.Contains(text, "failed") || strings.Contains(text, "not measured") {
		t.Errorf("the report says a row failed or a target was not measured:\n%s", text)
	}
}

// testLog sends the program's progress lines to the test log (-v shows them).
func testLog(t *testing.T) io.Writer { return logWriter{t} }

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
