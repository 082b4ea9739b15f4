package testenv

import (
	"os"
	"strings"
	"testing"
)

// addrsFromEnv returns the comma-separated addresses in the variable, or nil.
func addrsFromEnv(name string) []string {
	v := strings.TrimSpace(os.Getenv(name))
	if v == "" {
		return nil
	}
	var addrs []string
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

// required reports whether a missing service must fail the test.
func required() bool { return os.Getenv("IDEMQ_REQUIRE_SERVICES") == "1" }

// Missing fails the test (IDEMQ_REQUIRE_SERVICES=1) or skips it, saying
// how to provide the service: set variable, or let make start it.
func Missing(t testing.TB, service, variable, why string) {
	t.Helper()
	msg := "testenv: " + service + " is not available (" + why + "): set " + variable +
		", run `make services`, or run the tests with `make test`"
	if required() {
		t.Fatal(msg + " (IDEMQ_REQUIRE_SERVICES=1, so this fails instead of skipping)")
	}
	t.Skip(msg)
}
