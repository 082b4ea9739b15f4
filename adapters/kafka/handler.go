package idemqkafka

import (
	"context"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/dedupe"
)

// HandleFunc processes one message inside the guard. It calls end(value)
// once every step has succeeded, before it returns nil: value is what
// duplicates of the key receive. ctx is cancelled when the message's outcome
// can no longer be decided here; context.Cause says why (ErrRebalance,
// ErrDrainTimeout, dedupe.ErrLeaseLost, dedupe.ErrStoreClosed). In
// optimistic mode a handler that loses to a concurrent run of its key is
// not cancelled: its commit finds the winner's value, and the message ends
// as a duplicate (OnDuplicate gets that value).
type HandleFunc[V any] func(ctx context.Context, m kafkago.Message, end dedupe.End[V]) error

// DuplicateFunc is called for a message whose key another run already
// committed, with the winner's value, instead of the handler. An error is
// retried like a handler error.
type DuplicateFunc[V any] func(ctx context.Context, m kafkago.Message, winner V) error
