package kafkatest

import (
	"testing"

	"github.com/idemq/idemq/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
