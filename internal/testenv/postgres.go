package testenv

import (
	"os"
	"testing"
)

// PostgresURL returns the URL of the PostgreSQL that `make services`
// starts (IDEMQ_POSTGRES_URL), or skips the test (fails it under
// IDEMQ_REQUIRE_SERVICES=1) when there is none. Tests isolate themselves
// with tables of their own (Name).
func PostgresURL(t testing.TB) string {
	t.Helper()
	url := os.Getenv("IDEMQ_POSTGRES_URL")
	if url == "" {
		Missing(t, "PostgreSQL", "IDEMQ_POSTGRES_URL", "the variable is unset")
	}
	return url
}
