package pgstore_test

import (
	"os"
	"testing"

	"github.com/idemq/idemq/internal/testenv"
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(holdEnv); spec != "" {
		os.Exit(holdKey(spec)) // the conformance suite's holding process
	}
	testenv.Main(m)
}
