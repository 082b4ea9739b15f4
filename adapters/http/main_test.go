package idemqhttp_test

import (
	"log/slog"
	"testing"

	"github.com/idemq/idemq/internal/testenv"
)

// TestMain silences slog.Default, the middleware's logger unless a test
// sets its own, and checks for leaked goroutines.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	testenv.Main(m)
}
