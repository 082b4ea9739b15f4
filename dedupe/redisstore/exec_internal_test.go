package redisstore

import (
	"errors"
	"testing"

	"github.com/idemq/idemq/dedupe"
)

// TestGiveUpFailsOnlyUnanswered: when an Exec runs out of pipelines, the
// ops still waiting for their first answer fail with an error (their
// outcome is unknown), while ops that only waited for an addition to their
// answer (a claim's remaining lease, a retried claim's renewal) keep it.
func TestGiveUpFailsOnlyUnanswered(t *testing.T) {
	t.Parallel()
	ops := []dedupe.Op{{Kind: dedupe.OpCommit}, {Kind: dedupe.OpCommit}, {Kind: dedupe.OpClaim}, {Kind: dedupe.OpGet}}
	p := &execPlan{ops: ops, results: make([]dedupe.OpResult, len(ops))}
	p.results[2] = dedupe.OpResult{OK: true}                                                  // own claim, renewal pending
	p.results[3] = dedupe.OpResult{Current: dedupe.Record{State: dedupe.Claimed, Token: "x"}} // lease read pending
	r := p.newRound(len(ops))
	for i, s := range []step{
		commitCAS{},  // unanswered
		commitCall{}, // unanswered
		renewCall{},  // the own claim's renewal
		leaseRead{},
	} {
		r.add(&pendingOp{op: &p.ops[i], res: &p.results[i]}, s)
	}
	r.giveUp()
	for i, want := range []error{errTooManyRounds, errTooManyRounds, nil, nil} {
		if got := p.results[i].Err; !errors.Is(got, want) {
			t.Errorf("op %d: Err = %v, want %v", i, got, want)
		}
	}
	if !p.results[2].OK || p.results[3].Current.Token != "x" {
		t.Errorf("answered ops changed: %+v, %+v", p.results[2], p.results[3])
	}
}
