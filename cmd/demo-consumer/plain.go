package main

import (
	"context"
	"fmt"

	kafkago "github.com/segmentio/kafka-go"
)

// plainFlavour is a careful consumer without idemq: kafka-go's Reader in a
// consumer group, FetchMessage, handle, then CommitMessages for every
// message (at-least-once). It runs the handler again for every duplicate
// and for every message redelivered after a crash.
type plainFlavour struct{}

func (plainFlavour) counters() (int64, int64, bool) { return 0, 0, false }

func (plainFlavour) run(ctx context.Context, ph *phase, m *member) error {
	r := kafkago.NewReader(ph.readerConfig(m))
	defer r.Close()
	for {
		msg, err := r.FetchMessage(ctx)
		if err != nil {
			return stopped(ctx, m, fmt.Errorf("fetching: %w", err))
		}
		if err := ph.effect(ctx, m, header(msg, keyHeader)); err != nil {
			return stopped(ctx, m, err)
		}
		ph.handled(ctx, m, positionOf(msg))
		if err := r.CommitMessages(ctx, msg); err != nil {
			return stopped(ctx, m, fmt.Errorf("committing: %w", err))
		}
	}
}

// stopped is nil when err comes from stopping or killing m.
func stopped(ctx context.Context, m *member, err error) error {
	if ctx.Err() != nil || m.dead.Load() {
		return nil
	}
	return err
}
