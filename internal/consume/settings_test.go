package consume

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
)

func TestSettingsWithDefaults(t *testing.T) {
	t.Parallel()
	got := Settings{}.WithDefaults()
	want := Settings{
		Attempts: consumer.DefaultAttempts, MaxInFlight: consumer.DefaultMaxInFlight,
		BatchSize: consumer.DefaultBatchSize, CommitEvery: consumer.DefaultCommitEvery,
		CommitInterval: consumer.DefaultCommitInterval, DrainTimeout: consumer.DefaultDrainTimeout,
		Backoff: consumer.Backoff{}.WithDefaults(), Guard: consumer.Guard{}.WithDefaults(),
	}
	if got != want {
		t.Errorf("Settings{}.WithDefaults() = %+v, want %+v", got, want)
	}

	set := Settings{
		Attempts: 1, MaxInFlight: 2, BatchSize: 3, CommitEvery: 4, CommitInterval: 5 * time.Second,
		DrainTimeout: 6 * time.Second, Backoff: consumer.Backoff{Min: time.Millisecond, Max: time.Hour},
		Guard: consumer.Guard{Lease: time.Minute, TTL: time.Hour},
	}
	if got := set.WithDefaults(); got != set {
		t.Errorf("WithDefaults changed set fields: got %+v, want %+v", got, set)
	}

	tx := Settings{TxStore: noTx{}}.WithDefaults()
	if tx.Guard != (consumer.Guard{}) {
		t.Errorf("WithDefaults with a TxStore set Guard to %+v, want it zero", tx.Guard)
	}
}

// noTx is a TxStore that is never called.
type noTx struct{}

func (noTx) RunTx(context.Context, string, []byte, func(context.Context) ([]byte, error)) (dedupe.TxOutcome, error) {
	return dedupe.TxOutcome{}, errors.New("noTx: not implemented")
}
