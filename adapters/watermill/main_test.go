package idemqwatermill_test

import (
	"log/slog"
	"testing"

	"github.com/idemq/idemq/internal/testenv"
)

// TestMain silences slog.Default, the middleware's logger unless a test
// sets its own.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.DiscardHandler))
	testenv.Main(m)
}
