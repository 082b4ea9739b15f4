package dedupe

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// BatchStore is a Store that runs many operations in one round trip. The
// batch path (Batch) uses it when the store implements it, and otherwise
// falls back to the single-key methods, called concurrently, so that a
// third-party Store keeps working unchanged.
//
// A store may also send one op without its caller waiting:
// ExecAsync(ctx context.Context, op Op, done func(OpResult)) returns at
// once, and calls done with the op's result, once, from another goroutine
// (redisstore.Store does, queueing the op for its next group commit). Run
// sends its commit so when the store has it, and otherwise calls Commit
// from a goroutine of its own.
type BatchStore interface {
	Store
	// Exec runs ops, each with the semantics of the Store method of its
	// kind, and returns one result per op, in order. Ops are not atomic
	// together, and callers pass at most one op per key.
	Exec(ctx context.Context, ops []Op) []OpResult
}

// OpKind says which Store method an Op stands for.
type OpKind int

const (
	OpClaim   OpKind = iota + 1 // Store.Claim
	OpRenew                     // Store.Renew
	OpCommit                    // Store.Commit
	OpRelease                   // Store.Release
	OpGet                       // Store.Get: Current is the record (a claim's with its TTL)
)

// Op is one operation of BatchStore.Exec.
type Op struct {
	Kind   OpKind
	Key    string
	Token  string        // the owner token; for OpCommit, Commit.Token; unused for OpGet
	Lease  time.Duration // OpClaim, OpRenew
	Fenced bool          // OpCommit: Commit.Fenced
	Value  []byte        // OpCommit: Commit.Value
	TTL    time.Duration // OpCommit: Commit.TTL
}

// OpResult is the outcome of one Op.
type OpResult struct {
	// OK: claimed (OpClaim), still held (OpRenew), won (OpCommit), released
	// (OpRelease).
	OK bool
	// Current is what the key holds when an OpClaim or OpCommit is not OK,
	// as the Store methods return it, and what an OpGet read.
	Current Record
	// Err means the op's outcome is unknown.
	Err error
}

// commit returns the Commit an OpCommit stands for.
func (op Op) commit() Commit {
	return Commit{Token: op.Token, Fenced: op.Fenced, Value: op.Value, TTL: op.TTL}
}

// fallbackParallelism bounds the concurrent calls of execEach.
const fallbackParallelism = 16

// exec runs ops on s in one round trip if s is a BatchStore, and otherwise
// as concurrent single-key calls.
func exec(ctx context.Context, s Store, ops []Op) []OpResult {
	if len(ops) == 0 {
		return nil
	}
	if bs, ok := s.(BatchStore); ok {
		return bs.Exec(ctx, ops)
	}
	return execEach(ctx, s, ops)
}

// execEach runs each op with its Store method, fallbackParallelism at a time.
func execEach(ctx context.Context, s Store, ops []Op) []OpResult {
	results := make([]OpResult, len(ops))
	sem := make(chan struct{}, fallbackParallelism)
	var wg sync.WaitGroup
	for i, op := range ops {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			results[i] = execOne(ctx, s, op)
		})
	}
	wg.Wait()
	return results
}

// execOne runs one op with its Store method.
func execOne(ctx context.Context, s Store, op Op) OpResult {
	var r OpResult
	switch op.Kind {
	case OpClaim:
		r.Current, r.OK, r.Err = s.Claim(ctx, op.Key, op.Token, op.Lease)
	case OpRenew:
		r.OK, r.Err = s.Renew(ctx, op.Key, op.Token, op.Lease)
	case OpCommit:
		r.Current, r.OK, r.Err = s.Commit(ctx, op.Key, op.commit())
	case OpRelease:
		r.OK, r.Err = s.Release(ctx, op.Key, op.Token)
	case OpGet:
		r.Current, r.Err = s.Get(ctx, op.Key)
	default:
		r.Err = ErrUnknownOp
	}
	return r
}

// String names the kind: "claim", "renew", "commit", "release", "get".
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
	case OpGet:
		return "get"
	}
	return fmt.Sprintf("OpKind(%d)", int(k))
}
