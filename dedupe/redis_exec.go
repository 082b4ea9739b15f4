package dedupe

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

var _ BatchStore = (*RedisStore)(nil)

// maxOpsPerCall bounds the ops of one script call, so that one call does
// not hold a single Redis node's event loop for long (about 1 ms here).
const maxOpsPerCall = 256

// scriptCall is one call of the ops script: the ops at idx of an Exec.
type scriptCall struct {
	idx  []int
	keys []string
	args []any
}

// Exec implements BatchStore. On a single node, the ops go out as calls of
// one script with up to maxOpsPerCall ops each, pipelined: one round trip.
// On a Cluster, where one script may only touch one hash slot, each op is
// its own call, and go-redis pipelines the calls per master.
func (s *RedisStore) Exec(ctx context.Context, ops []Op) []OpResult {
	results := make([]OpResult, len(ops))
	if s.sub.isClosed() {
		for i := range results {
			results[i].Err = ErrStoreClosed
		}
		return results
	}
	calls := s.plan(ops, results)
	switch len(calls) {
	case 0:
	case 1:
		c := calls[0]
		reply, err := opsScript.Run(ctx, s.client, c.keys, c.args...).Slice()
		s.read(ops, results, c, reply, err)
	default:
		s.pipeline(ctx, ops, results, calls)
	}
	return results
}

// plan groups the valid ops into script calls; an invalid op gets its error
// in results and no call.
func (s *RedisStore) plan(ops []Op, results []OpResult) []scriptCall {
	per := maxOpsPerCall
	if s.sharded {
		per = 1
	}
	var calls []scriptCall
	var c *scriptCall
	for i, op := range ops {
		if err := checkToken(op.Token); err != nil {
			results[i].Err = err
			continue
		}
		if c == nil || len(c.idx) == per {
			calls = append(calls, scriptCall{args: []any{s.publish}})
			c = &calls[len(calls)-1]
		}
		c.idx = append(c.idx, i)
		c.keys = append(c.keys, s.recordKey(op.Key), s.channel(op.Key))
		c.args = append(c.args, opArgs(op)...)
	}
	return calls
}

// opArgs are an op's five script arguments.
func opArgs(op Op) []any {
	switch op.Kind {
	case OpClaim:
		return []any{"c", op.Token, storedDuration(op.Lease).Milliseconds(), "0", ""}
	case OpRenew:
		return []any{"r", op.Token, storedDuration(op.Lease).Milliseconds(), "0", ""}
	case OpCommit:
		fenced := "0"
		if op.Fenced {
			fenced = "1"
		}
		return []any{"v", op.Token, storedDuration(op.TTL).Milliseconds(), fenced, op.Value}
	case OpRelease:
		return []any{"x", op.Token, 0, "0", ""}
	}
	return []any{"?", op.Token, 0, "0", ""}
}

// pipeline sends the calls in one round trip (per master). Calls refused
// with NOSCRIPT did not run: the script is loaded and they are sent again.
func (s *RedisStore) pipeline(ctx context.Context, ops []Op, results []OpResult, calls []scriptCall) {
	for attempt := 0; len(calls) > 0; attempt++ {
		cmds := make([]*redis.Cmd, len(calls))
		_, _ = s.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, c := range calls {
				cmds[i] = opsScript.EvalSha(ctx, p, c.keys, c.args...)
			}
			return nil
		})
		var again []scriptCall
		for i, c := range calls {
			reply, err := cmds[i].Slice()
			if attempt == 0 && err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
				again = append(again, c)
				continue
			}
			s.read(ops, results, c, reply, err)
		}
		if len(again) > 0 {
			if err := opsScript.Load(ctx, s.client).Err(); err != nil {
				for _, c := range again {
					s.read(ops, results, c, nil, err)
				}
				return
			}
		}
		calls = again
	}
}

// read fills the results of one call from its reply.
func (s *RedisStore) read(ops []Op, results []OpResult, c scriptCall, reply []any, err error) {
	if err == nil && len(reply) != len(c.idx) {
		err = fmt.Errorf("dedupe: ops script replied %d results for %d ops", len(reply), len(c.idx))
	}
	for j, i := range c.idx {
		if err != nil {
			results[i].Err = err
			continue
		}
		r, _ := reply[j].([]any)
		results[i] = readOpReply(ops[i], r)
	}
}

// readOpReply reads one op's reply: {1}, {0}, {0, record} or {0, record, pttl}.
func readOpReply(op Op, r []any) OpResult {
	if len(r) == 0 {
		return OpResult{Err: fmt.Errorf("dedupe: empty reply to a %v op", op.Kind)}
	}
	if ok, _ := r[0].(int64); ok == 1 {
		return OpResult{OK: true, Current: succeeded(op)}
	}
	var res OpResult
	if len(r) > 1 {
		v, _ := r[1].(string)
		res.Current, res.Err = parseRecord(op.Key, v)
	}
	if len(r) > 2 && res.Current.State != Absent {
		res.Current.TTL = ttlFromPTTL(r[2])
	}
	return res
}

// succeeded is what the key holds after op succeeded.
func succeeded(op Op) Record {
	switch op.Kind {
	case OpClaim:
		return Record{State: Claimed, Token: op.Token, TTL: storedDuration(op.Lease)}
	case OpCommit:
		return Record{State: Committed, Token: op.Token, Value: op.Value, TTL: storedDuration(op.TTL)}
	}
	return Record{}
}

// ttlFromPTTL reads a PTTL reply of a live record: a PTTL of 0 (or -2,
// gone meanwhile) means it expires now and is reported as 1ns, never as 0
// ("unknown"); -1 (no expiry at all) is left unknown.
func ttlFromPTTL(v any) time.Duration {
	pttl, _ := v.(int64)
	switch {
	case pttl > 0:
		return time.Duration(pttl) * time.Millisecond
	case pttl == -1:
		return 0
	}
	return time.Nanosecond
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
