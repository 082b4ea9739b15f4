package dedupe

import (
	"context"
	"fmt"
	"reflect"
	"time"
)

// Store is where guards keep their keys and hear about each other. The guard
// (Run) depends on nothing else, so a Store is the one seam to replace;
// dedupetest.Run is the conformance suite every implementation must pass.
//
// The seam (Store, BatchStore and the types and helpers they use: Record,
// Commit, Interest, Event, Op, OpResult, Mailbox, CheckKey, CheckToken,
// StoredDuration) is for store writers, such as dedupe/redisstore and
// MemoryStore; programs that guard work only pass a Store to Run or
// NewBatch. Stability: no version of idemq is tagged yet, and the seam may
// still change with the stores written on it (a new store may need another
// Op kind or Record field); the conformance suite changes with it.
//
// A key holds nothing, a claim (an owner token with a lease), or a committed
// value (with a TTL). A Store never overwrites a committed value.
//
// A claim-mode Run watches no key, so a Store that can close says so
// through two optional methods: AfterClose(f func()) (stop func() bool)
// calls f in its own goroutine once the store closes, as context.AfterFunc
// does (a Run registers fn's cancellation with it, at no goroutine's cost);
// Done() <-chan struct{} is closed when it closes (a Run without
// AfterClose waits on it in a goroutine of its own; a Batch's heartbeat
// watches it). MemoryStore and redisstore.Store have both.
type Store interface {
	// Watch registers interest in key's changes and returns only once the
	// store guarantees that every later Commit or Release of key is delivered
	// to the Interest. Close the Interest when done.
	Watch(ctx context.Context, key string) (Interest, error)

	// Get returns what key holds now.
	Get(ctx context.Context, key string) (Record, error)

	// Commit stores c.Value under key for c.TTL and notifies watchers,
	// atomically, if the key is free, or (c.Fenced == true) holds the claim
	// of c.Token: a fenced commit whose claim expired still lands when
	// nobody took the key meanwhile, and fencing refuses only another
	// owner's claim or value. A key that already holds the value committed
	// with c.Token is this same commit, retried: Commit reports won == true
	// again. Otherwise it returns won == false and the current record. An
	// error means the outcome is unknown.
	Commit(ctx context.Context, key string, c Commit) (current Record, won bool, err error)

	// Claim stores a claim with token and lease under key if key is free. A
	// key that already holds the claim of token is this same claim, retried:
	// its lease is set again and Claim reports claimed == true. Otherwise it
	// returns claimed == false and the current record, whose TTL is the
	// claim's remaining lease (see Record.TTL).
	Claim(ctx context.Context, key, token string, lease time.Duration) (current Record, claimed bool, err error)

	// Renew extends the lease of the claim if key still holds token.
	Renew(ctx context.Context, key, token string, lease time.Duration) (held bool, err error)

	// Release deletes the claim and notifies watchers if key still holds token.
	Release(ctx context.Context, key, token string) (released bool, err error)

	// Close ends every Interest (their Events channels are closed) and makes
	// every later call return ErrStoreClosed. It is idempotent.
	Close() error
}

// State is what a key holds.
type State int

const (
	Absent    State = iota // nothing: the key is free
	Claimed                // a claim: an owner is working on it
	Committed              // a committed value
)

func (s State) String() string {
	switch s {
	case Absent:
		return "absent"
	case Claimed:
		return "claimed"
	case Committed:
		return "committed"
	}
	return "unknown"
}

// Record is what a key holds at one moment.
type Record struct {
	State State
	Value []byte // the committed value, when State == Committed
	// Token is the owner token of a claim (State == Claimed), or the token of
	// the run that committed the value (State == Committed).
	Token string
	// TTL is the time left to live: > 0 when known. Claim and Get report a
	// claim's remaining lease (one about to expire, Redis's PTTL of 0, as
	// 1ns), so 0 means "unknown" only; a redisstore.Store's Get leaves it unknown
	// for committed values.
	TTL time.Duration
}

// Commit is what Store.Commit stores.
type Commit struct {
	// Token identifies the committing run: 1 to MaxTokenLen bytes, no ':'.
	// With Fenced, it is also the owner token of its claim.
	Token string
	// Fenced lets the commit replace the claim of Token (claim-first mode);
	// without it the key must be free (optimistic mode).
	Fenced bool
	Value  []byte
	TTL    time.Duration // how long the value lives; rounded up to whole milliseconds
}

// Interest is a registered interest in one key, from Store.Watch.
type Interest interface {
	// Events delivers changes of the key. It is closed when the store closes.
	// Delivery is best effort and coalescing: an event may be dropped while an
	// earlier one is unread, so on any event other than Commit the guard
	// re-reads the key.
	Events() <-chan Event
	// Close releases the interest. It is idempotent.
	Close()
}

// EventKind says what happened to a watched key.
type EventKind int

const (
	EventCommit  EventKind = iota + 1 // a value was committed; Event.Value holds it
	EventRelease                      // a claim was released
	EventResync                       // notifications may have been lost (reconnect): re-read the key
)

// Event is one change of a watched key.
type Event struct {
	Kind  EventKind
	Value []byte // EventCommit: the committed value
	Token string // EventCommit: the committing run's token
}

// IsNilStore reports whether s is nil, or a Store whose value is nil: a nil
// *redisstore.Store or *MemoryStore, such as the one a failed redisstore.New
// returns, passed on without checking its error. Its methods would panic.
// Run, NewBatch and the adapters' constructors refuse such a store with
// their invalid-config error; an adapter for another broker should too.
func IsNilStore(s Store) bool { return isNilValue(s) }

// isNilValue reports a nil interface, or one holding a nil pointer, map, slice,
// func or channel.
func isNilValue(s any) bool {
	if s == nil {
		return true
	}
	switch v := reflect.ValueOf(s); v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return v.IsNil()
	}
	return false
}

// checkStore is the ErrInvalidOption of Run and NewBatch for a nil store.
func checkStore(s Store) error {
	switch {
	case s == nil:
		return fmt.Errorf("%w: nil store", ErrInvalidOption)
	case IsNilStore(s):
		return fmt.Errorf("%w: the store is a nil %T (was its constructor's error checked?)", ErrInvalidOption, s)
	}
	return nil
}
