package dedupe

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

//go:embed scripts/commit.lua
var commitLua string

//go:embed scripts/claimops.lua
var claimOpsLua string

var (
	commitScript   = redis.NewScript(commitLua)
	claimOpsScript = redis.NewScript(claimOpsLua)
)

var _ BatchStore = (*RedisStore)(nil)

// maxOpsPerCall bounds the ops of one script call, so that one call does
// not hold a Redis node's event loop for long (about 1 ms here).
const maxOpsPerCall = 256

// Exec implements BatchStore: all ops go out in one pipeline, so one round
// trip (one per master on a Cluster), plus one to read the remaining lease
// of claims held by other owners, if any. Claims are plain SET NX GET
// commands; commits, renewals and releases are calls of a script with up
// to maxOpsPerCall ops each, or one op each on a Cluster, where a script may
// touch only one hash slot.
func (s *RedisStore) Exec(ctx context.Context, ops []Op) []OpResult {
	if s.group != nil {
		return s.group.exec(ctx, ops)
	}
	return s.execNow(ctx, ops)
}

// execNow is Exec without group commit.
func (s *RedisStore) execNow(ctx context.Context, ops []Op) []OpResult {
	results := make([]OpResult, len(ops))
	if s.sub.isClosed() {
		for i := range results {
			results[i].Err = ErrStoreClosed
		}
		return results
	}
	p := &execPlan{store: s, ops: ops, results: results}
	p.group()
	p.send(ctx)
	return results
}

// execPlan is one Exec: the ops, grouped into pipelined commands.
type execPlan struct {
	store   *RedisStore
	ops     []Op
	results []OpResult
	claims  []int // ops sent as SET NX GET
	calls   []*scriptCall
}

// scriptCall is one call of a script for the ops at idx.
type scriptCall struct {
	script *redis.Script
	idx    []int
	keys   []string
	args   []any
	cmd    *redis.Cmd
}

// group sorts the valid ops into claims and script calls; an invalid op
// gets its error and is not sent.
func (p *execPlan) group() {
	per := maxOpsPerCall
	if p.store.sharded {
		per = 1
	}
	open := map[*redis.Script]*scriptCall{}
	for i, op := range p.ops {
		if err := checkToken(op.Token); err != nil {
			p.results[i].Err = err
			continue
		}
		if op.Kind == OpClaim {
			p.claims = append(p.claims, i)
			continue
		}
		script, args := opCall(op)
		if script == nil {
			p.results[i].Err = errUnknownOp
			continue
		}
		c := open[script]
		if c == nil || len(c.idx) == per {
			c = &scriptCall{script: script, args: []any{p.store.publish}}
			open[script] = c
			p.calls = append(p.calls, c)
		}
		c.idx = append(c.idx, i)
		c.keys = append(c.keys, p.store.recordKey(op.Key))
		c.args = append(c.args, args...)
	}
}

// opCall is the script and arguments of a non-claim op.
func opCall(op Op) (*redis.Script, []any) {
	switch op.Kind {
	case OpCommit:
		fenced := "0"
		if op.Fenced {
			fenced = "1"
		}
		return commitScript, []any{op.Token, fenced, storedDuration(op.TTL).Milliseconds(), op.Value}
	case OpRenew:
		return claimOpsScript, []any{"r", op.Token, storedDuration(op.Lease).Milliseconds()}
	case OpRelease:
		return claimOpsScript, []any{"x", op.Token, 0}
	}
	return nil, nil
}

// send pipelines the claims and script calls, then reads the replies. Script
// calls refused with NOSCRIPT did not run: the scripts are loaded and those
// calls sent once more.
func (p *execPlan) send(ctx context.Context) {
	if len(p.claims) == 0 && len(p.calls) == 0 {
		return
	}
	gets := make([]*redis.StatusCmd, len(p.claims))
	_, _ = p.store.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for j, i := range p.claims {
			op := p.ops[i]
			gets[j] = pipe.SetArgs(ctx, p.store.recordKey(op.Key), "C"+op.Token, redis.SetArgs{Mode: "NX", TTL: storedDuration(op.Lease), Get: true})
		}
		for _, c := range p.calls {
			c.cmd = c.script.EvalSha(ctx, pipe, c.keys, c.args...)
		}
		return nil
	})
	var retried []int
	for j, i := range p.claims {
		var again bool
		p.results[i], again = readClaim(p.ops[i], gets[j])
		if again {
			retried = append(retried, i)
		}
	}
	p.claimFollowUp(ctx, retried)
	p.readCalls(ctx)
}

// claimFollowUp reads the remaining lease of every claim held by another
// owner, and sets the lease of every retried claim again (SET NX GET left
// the first attempt's expiry), in one more round trip: only a waiter needs
// the first, and fresh keys, the common case, need neither.
func (p *execPlan) claimFollowUp(ctx context.Context, retried []int) {
	var busy []int
	for _, i := range p.claims {
		if r := p.results[i]; r.Err == nil && r.Current.State == Claimed && !r.OK {
			busy = append(busy, i)
		}
	}
	if len(busy) == 0 && len(retried) == 0 {
		return
	}
	pttls := make([]*redis.DurationCmd, len(busy))
	_, _ = p.store.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for j, i := range busy {
			pttls[j] = pipe.PTTL(ctx, p.store.recordKey(p.ops[i].Key))
		}
		for _, i := range retried {
			// Best effort: the claim holds either way, and the owner's
			// local clock counts from its first attempt.
			op := p.ops[i]
			claimOpsScript.EvalSha(ctx, pipe, []string{p.store.recordKey(op.Key)},
				p.store.publish, "r", op.Token, storedDuration(op.Lease).Milliseconds())
		}
		return nil
	})
	for j, i := range busy {
		if pttls[j].Err() == nil {
			p.results[i].Current.TTL = ttlFromPTTL(pttlMillis(pttls[j].Val()))
		}
	}
}

// readCalls reads the script calls' replies, resending those refused with
// NOSCRIPT once the scripts are loaded.
func (p *execPlan) readCalls(ctx context.Context) {
	var again []*scriptCall
	for _, c := range p.calls {
		if err := c.cmd.Err(); err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
			again = append(again, c)
			continue
		}
		p.read(c)
	}
	if len(again) == 0 {
		return
	}
	err := p.loadScripts(ctx)
	if err == nil {
		_, _ = p.store.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
			for _, c := range again {
				c.cmd = c.script.EvalSha(ctx, pipe, c.keys, c.args...)
			}
			return nil
		})
	}
	for _, c := range again {
		if err != nil {
			c.cmd.SetErr(err)
		}
		p.read(c)
	}
}

func (p *execPlan) loadScripts(ctx context.Context) error {
	return errors.Join(commitScript.Load(ctx, p.store.client).Err(), claimOpsScript.Load(ctx, p.store.client).Err())
}

// read fills the results of one script call from its reply.
func (p *execPlan) read(c *scriptCall) {
	reply, err := c.cmd.Slice()
	if err == nil && len(reply) != len(c.idx) {
		err = fmt.Errorf("dedupe: script replied %d results for %d ops", len(reply), len(c.idx))
	}
	for j, i := range c.idx {
		if err != nil {
			p.results[i].Err = err
			continue
		}
		p.results[i] = readScriptReply(p.ops[i], reply[j])
	}
}

// readScriptReply reads one op's reply: 1 (succeeded), 0 (not held), or
// the current record of a commit that lost (nil when the key is free).
func readScriptReply(op Op, v any) OpResult {
	if n, ok := v.(int64); ok {
		if n == 1 && op.Kind == OpCommit {
			return OpResult{OK: true, Current: Record{State: Committed, Token: op.Token, Value: op.Value, TTL: storedDuration(op.TTL)}}
		}
		return OpResult{OK: n == 1}
	}
	cur, ok := v.(string)
	if !ok {
		return OpResult{} // nil: the key is free
	}
	rec, err := parseRecord(op.Key, cur)
	return OpResult{Current: rec, Err: err}
}

// readClaim reads the reply to a claim's SET NX GET. The claim succeeded if
// the key was free, or already held this token's claim: the same claim,
// retried by the client after a lost reply (again reports it: its lease is
// to be set again).
func readClaim(op Op, get *redis.StatusCmd) (r OpResult, again bool) {
	cur, err := get.Result()
	claimed := OpResult{OK: true, Current: Record{State: Claimed, Token: op.Token, TTL: storedDuration(op.Lease)}}
	switch {
	case errors.Is(err, redis.Nil):
		return claimed, false
	case err != nil:
		return OpResult{Err: err}, false
	case cur == "C"+op.Token:
		return claimed, true
	}
	rec, err := parseRecord(op.Key, cur)
	return OpResult{Current: rec, Err: err}, false
}

// ttlFromPTTL reads a PTTL reply of a live record: a PTTL of 0 (or -2,
// gone meanwhile) means it expires now and is reported as 1ns, never as 0
// ("unknown"); -1 (no expiry at all) is left unknown.
func ttlFromPTTL(pttl int64) time.Duration {
	switch {
	case pttl > 0:
		return time.Duration(pttl) * time.Millisecond
	case pttl == -1:
		return 0
	}
	return time.Nanosecond
}

// pttlMillis turns go-redis's PTTL duration back into Redis's reply: -1 and
// -2 stay as they are, anything else is milliseconds.
func pttlMillis(d time.Duration) int64 {
	if d < 0 {
		return int64(d)
	}
	return int64(d / time.Millisecond)
}

func (k OpKind) String() string {
	switch k {
	case OpClaim:
		return "claim"
	case OpRenew:
		return "renew"
	case OpCommit:
		return "commit"
	case OpRelease:
		return "release"
	}
	return fmt.Sprintf("OpKind(%d)", int(k))
}
