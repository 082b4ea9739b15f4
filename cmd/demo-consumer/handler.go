package main

import (
	"context"
	"time"
)

// effect is every flavour's order handler: the business work (waiting
// config.Work, standing for a call to a payment service), then one ledger
// entry. A member that was killed does nothing more: its handler waits
// until the consumer cancels it, as a crashed process would never answer.
func (ph *phase) effect(ctx context.Context, m *member, key string) error {
	if ph.work > 0 {
		t := time.NewTimer(ph.work)
		select {
		case <-ctx.Done():
			t.Stop()
			return context.Cause(ctx)
		case <-t.C:
		}
	}
	if m.dead.Load() {
		<-ctx.Done()
		return context.Cause(ctx)
	}
	// Once started, the effect completes: it is not abandoned halfway.
	err := ph.ledger.add(context.WithoutCancel(ctx), key)
	if err == nil {
		ph.tracker.effects.Add(1)
	}
	return err
}

// handled records that the handler of the message at p did its effect and
// is about to return (its outcome is final, or will be once the consumer
// commits it) and, at the kill point, holds the victim right there, after
// its effect and before the consumer's commit (the store's, then the
// offset's), until it is killed: the messages it handled since its last
// commit are delivered again to the member that takes its partitions over.
func (ph *phase) handled(ctx context.Context, m *member, p position) {
	ph.tracker.handled(p)
	if m.victim && ph.tracker.atKillPoint() {
		select {
		case <-m.killed:
		case <-ctx.Done(): // the run is ending without the kill
		}
	}
}

// acked records that the message at p was acknowledged as a duplicate,
// without an effect (the victim is never held here).
func (ph *phase) acked(p position) { ph.tracker.handled(p) }
