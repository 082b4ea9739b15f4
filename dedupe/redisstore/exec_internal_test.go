package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

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

// TestCommandsPrintTheirArguments: the commands hold an op's arguments by
// pointer, yet print them (Cmd.String, which hooks use) as they are sent.
func TestCommandsPrintTheirArguments(t *testing.T) {
	t.Parallel()
	client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}) // never dialled
	defer client.Close()
	s := &Store{client: client, prefix: DefaultPrefix}
	ctx := context.Background()
	ops := []dedupe.Op{
		{Kind: dedupe.OpClaim, Key: "k", Token: "tok-0123456789ab", Lease: 1500 * time.Millisecond},
		{Kind: dedupe.OpCommit, Key: "k", Token: "tok-0123456789ab", Fenced: true, Value: []byte("{}"), TTL: time.Second},
	}
	p := &execPlan{store: s, ops: ops, results: make([]dedupe.OpResult, len(ops))}
	r := p.newRound(len(ops))
	for i, st := range []step{claimSetNX{}, commitCAS{}} {
		var o pendingOp
		p.prepare(&o, i)
		st.send(ctx, r, &o)
		r.add(&o, st)
	}
	for i, want := range []string{
		"set idemq:{k} Ctok-0123456789ab nx px 1500 get: ",
		"set idemq:{k} Vtok-0123456789ab:{} ifeq Ctok-0123456789ab px 1000",
	} {
		if got := r.ops[i].cmd.String(); got != want {
			t.Errorf("command %d prints %q, want %q", i, got, want)
		}
	}
}
