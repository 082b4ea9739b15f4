package archtest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/idemq/idemq"

// The broker and store client libraries the rules below keep out.
var (
	brokers      = []string{"github.com/segmentio/kafka-go", "github.com/ThreeDotsLabs/watermill", "github.com/IBM/sarama", "github.com/twmb/franz-go"}
	storeClients = []string{"github.com/redis/", "github.com/valkey-io/", "github.com/jackc/", "github.com/lib/pq", "database/sql"}
)

// The core (dedupe), its conformance suite and the consumer engine; and
// the store packages, each on the seam in dedupe.
var (
	core   = []string{module + "/dedupe", module + "/dedupe/dedupetest", module + "/consumer", module + "/internal/consume"}
	stores = []string{module + "/dedupe/redisstore", module + "/dedupe/pgstore"}
)

// TestNoBrokerImports checks ARCHITECTURE.md's rules with go list: the core
// and the consumer engine depend on no broker library, directly or not.
func TestNoBrokerImports(t *testing.T) {
	for _, pkg := range core {
		forbid(t, pkg, brokers)
	}
}

// TestNoStoreClientImports: the core and the engine depend on no store's
// client library; each store lives in its own package under dedupe/
// (dedupe/redisstore, dedupe/pgstore), which may import dedupe, never the
// other way.
func TestNoStoreClientImports(t *testing.T) {
	for _, pkg := range core {
		forbid(t, pkg, storeClients)
		forbid(t, pkg, stores)
	}
}

// TestStoresImportTheCore: each store package reaches the seam through
// dedupe (a check that the rule above is not vacuous).
func TestStoresImportTheCore(t *testing.T) {
	for _, pkg := range stores {
		if !slices.Contains(deps(t, pkg), module+"/dedupe") {
			t.Errorf("%s does not depend on %s/dedupe", pkg, module)
		}
	}
}

// forbid fails for every dependency of pkg that starts with one of the
// prefixes.
func forbid(t *testing.T, pkg string, prefixes []string) {
	t.Helper()
	for _, dep := range deps(t, pkg) {
		for _, p := range prefixes {
			if strings.HasPrefix(dep, p) {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}

// deps lists pkg and every package it depends on, directly or not.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}

// The test-support packages: only tests import them (dedupe/dedupetest is
// the users' conformance suite, for their tests).
var testSupport = []string{module + "/internal/testenv", module + "/internal/testwait", module + "/internal/kafkatest", module + "/dedupe/dedupetest"}

// TestOnlyTestsImportTestSupport: no package's non-test files import a
// test-support package, except the test-support packages themselves.
func TestOnlyTestsImportTestSupport(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Imports}} {{.}}{{end}}`, module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if slices.Contains(testSupport, fields[0]) {
			continue
		}
		for _, imp := range fields[1:] {
			if slices.Contains(testSupport, imp) {
				t.Errorf("%s imports %s outside its tests", fields[0], imp)
			}
		}
	}
}

// TestScenarioTableImportsNoAdapter: internal/kafkatest, the scenario table
// both Kafka adapters pass, depends on neither of them, so that each reaches
// it only through its own Driver.
func TestScenarioTableImportsNoAdapter(t *testing.T) {
	forbid(t, module+"/internal/kafkatest", []string{module + "/adapters/", "github.com/twmb/franz-go"})
}
