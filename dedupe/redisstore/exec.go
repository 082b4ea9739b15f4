package redisstore

import (
	"context"
	"errors"
	"strconv"

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
	p := &execPlan{store: s, ops: ops, results: results, watched: s.sub.watchedKeys(s, ops), native: s.nativeCAS()}
	pending := make([]pendingOp, len(ops))
	r := p.newRound(len(ops))
	for i, op := range ops {
		if op.Kind != dedupe.OpGet {
			if err := dedupe.CheckToken(op.Token); err != nil {
				results[i].Err = err
				continue
			}
		}
		first := p.firstStep(i)
		if first == nil {
			results[i].Err = dedupe.ErrUnknownOp
			continue
		}
		p.prepare(&pending[i], i)
		r.add(&pending[i], first)
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

// firstStep returns the step that op i starts with, by its kind (each kind
// is in its own file, op_*.go), or nil for an unknown kind. This switch and
// watchable are all an Exec knows of the kinds.
func (p *execPlan) firstStep(i int) step {
	op, watched := &p.ops[i], p.watched != nil && p.watched[i]
	switch op.Kind {
	case dedupe.OpClaim:
		return claimStep(watched)
	case dedupe.OpCommit:
		return commitStep(op, p.native, watched)
	case dedupe.OpRenew:
		return renewStep(p.native)
	case dedupe.OpRelease:
		return releaseCall{}
	case dedupe.OpGet:
		return getStep(watched)
	}
	return nil
}

// watchable reports whether an op of kind k is sent differently when this
// store watches its key (claims mark, gets and commits read the mark).
func watchable(k dedupe.OpKind) bool {
	return k == dedupe.OpClaim || k == dedupe.OpGet || k == dedupe.OpCommit
}

// pendingOp is one op of an Exec on its way through the rounds: what its
// commands send, built once (prepare), the step it takes in the current
// round, and that step's command.
type pendingOp struct {
	op    *dedupe.Op
	res   *dedupe.OpResult
	key   opArg  // the record key
	claim opArg  // the op's claim record
	value opArg  // a commit's value record
	lease opArg  // the op's lease in ms
	ttl   opArg  // a commit's TTL in ms
	args  [7]any // the arguments of the op's first command, if plain (see command)

	step step
	cmd  redis.Cmder // a plain command's, once sent
	call *scriptCall // or the script call that carries the op
	j    int         // and the op's place in it
}

// opArg is an argument of an op's commands, held by the commands as a
// pointer, which boxes no copy of it: go-redis writes it as an
// encoding.BinaryMarshaler and prints it (Cmd.String, hooks) and finds a
// Cluster slot by it as a fmt.Stringer. An op's opArgs are views of one
// buffer, which never changes once prepared, and the pendingOps of an Exec
// are never reused: go-redis may read a command's arguments for as long as
// it holds the command.
type opArg []byte

// MarshalBinary returns the argument as go-redis writes it.
func (a *opArg) MarshalBinary() ([]byte, error) { return *a, nil }

func (a *opArg) String() string { return string(*a) }

// prepare makes o op i of the plan, with what its commands send, in one
// buffer: one allocation per op (more for a key that recordKey hashes).
func (p *execPlan) prepare(o *pendingOp, i int) {
	op := &p.ops[i]
	*o = pendingOp{op: op, res: &p.results[i]}
	lease, ttl := dedupe.StoredDuration(op.Lease).Milliseconds(), dedupe.StoredDuration(op.TTL).Milliseconds()
	b := make([]byte, 0, p.store.argsLen(op, lease, ttl))
	o.key, b = take(p.store.appendRecordKey(b, op.Key))
	o.claim, b = take(appendClaimRecord(b, op.Token))
	o.lease, b = take(strconv.AppendInt(b, lease, 10))
	if op.Kind == dedupe.OpCommit {
		o.value, b = take(appendValueRecord(b, op.Token, op.Value))
		o.ttl, _ = take(strconv.AppendInt(b, ttl, 10))
	}
}

// argsLen is the length of op's arguments (at most, for a key that
// recordKey hashes).
func (s *Store) argsLen(op *dedupe.Op, lease, ttl int64) int {
	n := len(s.prefix) + len("{") + len(op.Key) + len("}") + len("C") + len(op.Token) + digits(lease)
	if !plainTag(op.Key) {
		n += len("#0123456789abcdef:")
	}
	if op.Kind == dedupe.OpCommit {
		n += len("V") + len(op.Token) + len(":") + len(op.Value) + digits(ttl)
	}
	return n
}

// digits is the length of n > 0 in decimal.
func digits(n int64) int {
	d := 1
	for ; n >= 10; n /= 10 {
		d++
	}
	return d
}

// take returns what b holds as an opArg, and the rest of b's capacity to
// append the next argument to.
func take(b []byte) (opArg, []byte) { return opArg(b[:len(b):len(b)]), b[len(b):] }

// command returns args as the arguments of o's first command, held in
// o.args, which is written once: only an op's first step may use it (a
// step sent again, after NOSCRIPT, is a script call's; a later plain
// command, leaseRead's, has arguments of its own).
func (o *pendingOp) command(args ...any) []any {
	n := copy(o.args[:], args)
	return o.args[:n:n]
}

// A step is one command of an op kind (op_*.go): a plain command, or the
// op's part of a script call. It makes the command, then reads the reply
// into the op's result, and may queue the op's next step into the next
// round. A round knows nothing of kinds, but that commits wait for
// replicas (replicas.go).
type step interface {
	// send makes o's command (o.cmd), or adds o to a script call of r
	// (r.script); the round queues them.
	send(ctx context.Context, r *round, o *pendingOp)
	// read reads the reply: o.cmd's, or o's part of its script call's
	// (r.scriptReply).
	read(r *round, o *pendingOp)
}

func isNil(err error) bool { return err == redis.Nil }
