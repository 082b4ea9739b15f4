package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
)

var _ dedupe.BatchStore = (*Store)(nil)

// maxOpsPerCall bounds the ops of one script call, so that one call does
// not hold a Redis node's event loop for long (well under 1 ms here).
const maxOpsPerCall = 256

// maxRounds bounds the pipelines of one Exec: the first, its follow-ups,
// and a resend after NOSCRIPT.
const maxRounds = 4

// errTooManyRounds: an Exec op still unanswered after maxRounds pipelines
// (scripts flushed again and again): its outcome is unknown.
var errTooManyRounds = errors.New("dedupe: no answer after the most pipelines one Exec sends")

// Exec implements BatchStore: all ops go out in one pipeline, so one round
// trip (one per master on a Cluster), plus a follow-up round trip for the
// few ops whose first reply calls for one (see round).
//
// Claims are plain SET NX GET commands. On a server with native
// compare-and-set (SET ... IFEQ: Valkey 8.1+, Redis 8.4+) fenced commits and
// renewals are plain SET ... IFEQ commands too; otherwise, and for
// releases, commits into a free key and keys that a waiter of this store
// watches, they are calls of a script with up to maxOpsPerCall ops each (one
// op each on a Cluster, where a script may touch only one hash slot).
func (s *Store) Exec(ctx context.Context, ops []dedupe.Op) []dedupe.OpResult {
	if s.group != nil {
		return s.group.exec(ctx, ops)
	}
	return s.execNow(ctx, ops)
}

// execNow is Exec without group commit.
func (s *Store) execNow(ctx context.Context, ops []dedupe.Op) []dedupe.OpResult {
	results := make([]dedupe.OpResult, len(ops))
	if s.sub.isClosed() {
		for i := range results {
			results[i].Err = dedupe.ErrStoreClosed
		}
		return results
	}
	p := &execPlan{store: s, ops: ops, results: results, watched: s.sub.watchedKeys(s, ops)}
	r := p.newRound()
	for i, op := range ops {
		if op.Kind != dedupe.OpGet {
			if err := dedupe.CheckToken(op.Token); err != nil {
				results[i].Err = err
				continue
			}
		}
		r.add(i)
	}
	for n := 0; r != nil && n < maxRounds; n++ {
		r = r.send(ctx)
	}
	if r != nil {
		r.giveUp()
	}
	return results
}

// execPlan is one Exec: the ops, their results, and what the store knew
// when it started.
type execPlan struct {
	store   *Store
	ops     []dedupe.Op
	results []dedupe.OpResult
	watched []bool // per op: a waiter of this store watches the key (nil: none)
	native  bool   // SET ... IFEQ is known to work
}

func (p *execPlan) newRound() *round {
	p.native = p.store.nativeCAS()
	return &round{plan: p, open: map[*redis.Script]*scriptCall{}}
}

func (p *execPlan) isWatched(i int) bool { return p.watched != nil && p.watched[i] }

func (p *execPlan) recordKey(i int) string { return p.store.recordKey(p.ops[i].Key) }

// add queues op i's first command.
func (r *round) add(i int) {
	p := r.plan
	op := p.ops[i]
	switch {
	case op.Kind == dedupe.OpClaim && p.isWatched(i):
		r.script(watchedScript, i, "c", claimRecord(op.Token), dedupe.StoredDuration(op.Lease).Milliseconds())
	case op.Kind == dedupe.OpClaim:
		r.claims = append(r.claims, i)
	case op.Kind == dedupe.OpCommit && op.Fenced && p.native && !p.isWatched(i):
		r.cas = append(r.cas, i)
	case op.Kind == dedupe.OpCommit:
		r.commit(i)
	case op.Kind == dedupe.OpRenew && p.native:
		r.cas = append(r.cas, i)
	case op.Kind == dedupe.OpRenew:
		r.claimOp(i, "r")
	case op.Kind == dedupe.OpRelease:
		r.claimOp(i, "x")
	case op.Kind == dedupe.OpGet && p.isWatched(i):
		r.script(watchedScript, i, "g", "", 0)
	case op.Kind == dedupe.OpGet:
		r.gets = append(r.gets, i)
	default:
		p.results[i].Err = dedupe.ErrUnknownOp
	}
}

// commit queues op i as a call of the commit script.
func (r *round) commit(i int) {
	op := r.plan.ops[i]
	claim := ""
	if op.Fenced {
		claim = claimRecord(op.Token)
	}
	r.script(commitScript, i, claim, valueRecord(op.Token, op.Value), dedupe.StoredDuration(op.TTL).Milliseconds())
}

// claimOp queues op i as a renewal ('r') or release ('x') script call.
func (r *round) claimOp(i int, kind string) {
	op := r.plan.ops[i]
	r.script(claimOpsScript, i, kind, claimRecord(op.Token), dedupe.StoredDuration(op.Lease).Milliseconds())
}

// round is one pipeline of an Exec: plain commands and script calls. Its
// replies may queue follow-ups into the next round: the remaining lease of
// a claim another owner holds (only a waiter needs it), a retried claim's
// lease set again, a compare-and-set that found the claim marked by a
// waiter (or not held: the script tells which), and script calls refused
// with NOSCRIPT (they did not run), sent again once the scripts are loaded.
type round struct {
	plan   *execPlan
	claims []int // SET NX GET
	gets   []int // GET
	cas    []int // SET ... IFEQ: fenced commits and renewals
	pttls  []int // PTTL of a claim another owner holds
	calls  []*scriptCall
	open   map[*redis.Script]*scriptCall

	next     *round
	noScript bool // a call was refused with NOSCRIPT: load the scripts first
}

// scriptCall is one call of a script for the ops at idx.
type scriptCall struct {
	script *redis.Script
	idx    []int
	keys   []string
	args   []any
	cmd    *redis.Cmd
}

// script adds op i, with its arguments, to an open call of s.
func (r *round) script(s *redis.Script, i int, args ...any) {
	per := maxOpsPerCall
	if r.plan.store.sharded {
		per = 1
	}
	c := r.open[s]
	if c == nil || len(c.idx) == per {
		c = &scriptCall{script: s}
		if s != watchedScript {
			c.args = []any{r.plan.store.publish}
		}
		r.open[s] = c
		r.calls = append(r.calls, c)
	}
	c.idx = append(c.idx, i)
	c.keys = append(c.keys, r.plan.recordKey(i))
	c.args = append(c.args, args...)
}

func (r *round) empty() bool {
	return len(r.claims)+len(r.gets)+len(r.cas)+len(r.pttls)+len(r.calls) == 0
}

// following returns the round that the replies of this one add to.
func (r *round) following() *round {
	if r.next == nil {
		r.next = r.plan.newRound()
	}
	return r.next
}

// send pipelines the round, reads the replies and returns the next round,
// or nil.
func (r *round) send(ctx context.Context) *round {
	if r.empty() {
		return nil
	}
	if r.noScript {
		if err := loadScripts(ctx, r.plan.store.client); err != nil {
			r.fail(err)
			return nil
		}
	}
	p := r.plan
	claims := make([]*redis.StatusCmd, len(r.claims))
	gets := make([]*redis.StringCmd, len(r.gets))
	cas := make([]*redis.Cmd, len(r.cas))
	pttls := make([]*redis.DurationCmd, len(r.pttls))
	var probe *redis.Cmd
	var wait *redis.Cmd
	_, _ = p.store.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		probe = p.store.probeCAS(ctx, pipe)
		for j, i := range r.claims {
			op := p.ops[i]
			claims[j] = pipe.SetArgs(ctx, p.recordKey(i), claimRecord(op.Token), redis.SetArgs{Mode: "NX", TTL: dedupe.StoredDuration(op.Lease), Get: true})
		}
		for j, i := range r.gets {
			gets[j] = pipe.Get(ctx, p.recordKey(i))
		}
		for j, i := range r.cas {
			cas[j] = r.sendCAS(ctx, pipe, i)
		}
		for j, i := range r.pttls {
			pttls[j] = pipe.PTTL(ctx, p.recordKey(i))
		}
		for _, c := range r.calls {
			c.cmd = c.script.EvalSha(ctx, pipe, c.keys, c.args...)
		}
		wait = r.waitReplicas(ctx, pipe)
		return nil
	})
	p.store.probed(probe)
	for j, i := range r.claims {
		r.readClaim(i, claims[j])
	}
	for j, i := range r.gets {
		r.readGet(i, gets[j])
	}
	for j, i := range r.cas {
		r.readCAS(i, cas[j])
	}
	for j, i := range r.pttls {
		if pttls[j].Err() == nil {
			p.results[i].Current.TTL = ttlFromPTTL(pttlMillis(pttls[j].Val()))
		}
	}
	for _, c := range r.calls {
		r.readCall(c)
	}
	r.replicated(wait)
	return r.next
}

// fail gives every op of the round err.
func (r *round) fail(err error) {
	for _, i := range slices.Concat(r.claims, r.gets, r.cas, r.pttls) {
		r.plan.results[i].Err = err
	}
	for _, c := range r.calls {
		for _, i := range c.idx {
			r.plan.results[i].Err = err
		}
	}
}

// giveUp fails the ops of a round that was never sent and have no answer
// yet. A remaining-lease read or a retried claim's renewal only adds to an
// answer the op already has, which stands.
func (r *round) giveUp() {
	for _, c := range r.calls {
		r.failUnanswered(c.idx)
	}
	r.failUnanswered(slices.Concat(r.claims, r.gets, r.cas))
}

func (r *round) failUnanswered(idx []int) {
	for _, i := range idx {
		if res := &r.plan.results[i]; !res.OK && res.Err == nil && res.Current.State == dedupe.Absent {
			res.Err = errTooManyRounds
		}
	}
}

// sendCAS queues op i's SET ... IFEQ: a fenced commit, or a renewal.
func (r *round) sendCAS(ctx context.Context, pipe redis.Pipeliner, i int) *redis.Cmd {
	op := r.plan.ops[i]
	claim := claimRecord(op.Token)
	if op.Kind == dedupe.OpCommit {
		return pipe.Do(ctx, "SET", r.plan.recordKey(i), valueRecord(op.Token, op.Value), "IFEQ", claim, "PX", dedupe.StoredDuration(op.TTL).Milliseconds())
	}
	return pipe.Do(ctx, "SET", r.plan.recordKey(i), claim, "IFEQ", claim, "PX", dedupe.StoredDuration(op.Lease).Milliseconds())
}

// readCAS reads a SET ... IFEQ reply. OK: done. Refused (nil): the key does
// not hold the plain claim: it may hold it marked by a waiter, or this
// commit resent (the script writes it again), or another record; the script
// decides in the next round.
func (r *round) readCAS(i int, cmd *redis.Cmd) {
	op := r.plan.ops[i]
	switch err := cmd.Err(); {
	case err == nil && op.Kind == dedupe.OpCommit:
		r.plan.results[i] = wonCommit(op)
	case err == nil:
		r.plan.results[i] = dedupe.OpResult{OK: true}
	case isNil(err), refusedCAS(err):
		if refusedCAS(err) {
			r.plan.store.cas.Store(casScript)
		}
		if op.Kind == dedupe.OpCommit {
			r.following().commit(i)
		} else {
			r.following().claimOp(i, "r")
		}
	default:
		r.plan.results[i].Err = err
	}
}

// readClaim reads the reply to a claim's SET NX GET. The claim succeeded if
// the key was free, or already held this token's claim: the same claim,
// retried by the client after a lost reply (its lease is set again in the
// next round; SET NX GET left the first attempt's expiry).
func (r *round) readClaim(i int, get *redis.StatusCmd) {
	op := r.plan.ops[i]
	cur, err := get.Result()
	switch {
	case isNil(err):
		r.plan.results[i] = claimed(op)
	case err != nil:
		r.plan.results[i].Err = err
	case ownClaim(cur, op.Token):
		r.plan.results[i] = claimed(op)
		r.following().claimOp(i, "r") // best effort: the claim holds either way
	default:
		rec, err := parseRecord(op.Key, cur)
		r.plan.results[i] = dedupe.OpResult{Current: rec, Err: err}
		if err == nil && rec.State == dedupe.Claimed {
			r.following().pttls = append(r.following().pttls, i)
		}
	}
}

// readGet reads the reply to an OpGet's GET; a claim's remaining lease is
// read in the next round.
func (r *round) readGet(i int, get *redis.StringCmd) {
	cur, err := get.Result()
	switch {
	case isNil(err):
	case err != nil:
		r.plan.results[i].Err = err
	default:
		rec, err := parseRecord(r.plan.ops[i].Key, cur)
		r.plan.results[i] = dedupe.OpResult{Current: rec, Err: err}
		if err == nil && rec.State == dedupe.Claimed {
			r.following().pttls = append(r.following().pttls, i)
		}
	}
}

// readCall fills the results of one script call from its reply.
func (r *round) readCall(c *scriptCall) {
	reply, err := c.cmd.Slice()
	switch {
	case err != nil && redis.HasErrorPrefix(err, "NOSCRIPT"):
		next := r.following()
		next.noScript = true
		next.calls = append(next.calls, c)
		return
	case err == nil && len(reply) != len(c.idx):
		err = fmt.Errorf("dedupe: script replied %d results for %d ops", len(reply), len(c.idx))
	}
	for j, i := range c.idx {
		switch {
		case err != nil:
			r.plan.results[i].Err = err
		case c.script == watchedScript:
			r.plan.results[i] = readWatchedReply(r.plan.ops[i], reply[j])
		default:
			r.plan.results[i] = readScriptReply(r.plan.ops[i], reply[j])
		}
	}
}

// readScriptReply reads one op's reply of the commit or claimops script: 1
// (succeeded; for a commit also its resend, which the script wrote again),
// 0 (not held), or the current record of a commit that did not store
// (false, read as nil, when the key is free).
func readScriptReply(op dedupe.Op, v any) dedupe.OpResult {
	if n, ok := v.(int64); ok {
		if n == 1 && op.Kind == dedupe.OpCommit {
			return wonCommit(op)
		}
		return dedupe.OpResult{OK: n == 1}
	}
	cur, ok := v.(string)
	if !ok {
		return dedupe.OpResult{} // the key is free
	}
	rec, err := parseRecord(op.Key, cur)
	return dedupe.OpResult{Current: rec, Err: err}
}

// readWatchedReply reads one op's reply of the watched script: 1 (claimed),
// nil (a read found the key free), or {current record, PTTL}.
func readWatchedReply(op dedupe.Op, v any) dedupe.OpResult {
	if n, ok := v.(int64); ok && n == 1 {
		return claimed(op)
	}
	pair, ok := v.([]any)
	if !ok {
		return dedupe.OpResult{}
	}
	cur, _ := pair[0].(string)
	rec, err := parseRecord(op.Key, cur)
	if pttl, ok := pair[1].(int64); ok && err == nil && rec.State == dedupe.Claimed {
		rec.TTL = ttlFromPTTL(pttl)
	}
	return dedupe.OpResult{Current: rec, Err: err}
}

// claimed is the result of a claim that holds.
func claimed(op dedupe.Op) dedupe.OpResult {
	return dedupe.OpResult{OK: true, Current: dedupe.Record{State: dedupe.Claimed, Token: op.Token, TTL: dedupe.StoredDuration(op.Lease)}}
}

// wonCommit is the result of a commit that stored its value.
func wonCommit(op dedupe.Op) dedupe.OpResult {
	return dedupe.OpResult{OK: true, Current: dedupe.Record{State: dedupe.Committed, Token: op.Token, Value: op.Value, TTL: dedupe.StoredDuration(op.TTL)}}
}

func isNil(err error) bool { return err == redis.Nil }
