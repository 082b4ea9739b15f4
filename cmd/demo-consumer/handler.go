package main

import (
	"context"
	"time"
)

// effect is every flavour's order handler: the business work (waiting
// config.Work, standing for a call to a payment service), then one ledger
// entry. A member that was killed does nothing more: its handler waits
// until the consumer cancels it, as a crashed process would never answer.
func (ph *phase) effect(ctx context.Context, m *member, key string) (int64, error) {
	if ph.work > 0 {
		t := time.NewTimer(ph.work)
		select {
		case <-ctx.Done():
			t.Stop()
			return 0, context.Cause(ctx)
		case <-t.C:
		}
	}
	if m.dead.Load() {
		<-ctx.Done()
		return 0, context.Cause(ctx)
	}
	// Once started, the effect completes: it is not abandoned halfway.
	n, err := ph.ledger.add(context.WithoutCancel(ctx), key)
	if err == nil {
		ph.tracker.effects.Add(1)
	}
	return n, err
}

// handled records that the message at p has its final outcome (its effect
// done, or acked as a duplicate) and, at the kill point, holds the victim
// right there, after the handler and before the offset commit, until it is
// killed: the messages it handled since its last commit are delivered again
// to the member that takes its partitions over.
func (ph *phase) handled(ctx context.Context, m *member, p position) {
	ph.tracker.handled(p)
	if m.victim && ph.tracker.atKillPoint() {
		select {
		case <-m.killed:
		case <-ctx.Done(): // the run is ending without the kill
		}
	}
}
