package dedupe

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrConflict matches every *ConflictError: another run committed the key.
	ErrConflict = errors.New("dedupe: key already committed by another run")
	// ErrEndNotCalled: fn returned a nil error without calling end.
	ErrEndNotCalled = errors.New("dedupe: end was not called before the function returned")
	// ErrEndCalledTwice: end was called more than once; the first value
	// stands. Alone, it means that value was committed; joined (errors.Join)
	// with another error, that error is the commit's outcome.
	ErrEndCalledTwice = errors.New("dedupe: end was called more than once")
	// ErrCommitUnknown: the commit was sent but its outcome is unknown (timeout,
	// connection lost). The value may or may not be stored: never acknowledge
	// a message on it.
	ErrCommitUnknown = errors.New("dedupe: commit outcome unknown")
	// ErrStoreClosed: the store was closed before or while the run used it.
	ErrStoreClosed = errors.New("dedupe: store closed")
	// ErrInProgress: another owner holds a live claim on the key (found with
	// WithNoWait, by an optimistic run, or by a Batch ticket).
	ErrInProgress = errors.New("dedupe: key is being processed by another owner")
	// ErrWaitTimeout: fn did not start within WithMaxWait. Another owner
	// still held a live claim on the key (the error is then an
	// ErrInProgress too), or the store did not confirm the subscription to
	// the key's notifications (a *StoreError).
	ErrWaitTimeout = errors.New("dedupe: fn did not start within WithMaxWait")
	// ErrLeaseLost: claim mode; this owner's lease expired (by the local
	// clock, or in the store) before it committed, and another owner took
	// the key, so its commit was refused (fencing).
	ErrLeaseLost = errors.New("dedupe: lease lost before commit")
	// ErrInvalidKey: the key is empty or longer than MaxKeyLen.
	ErrInvalidKey = errors.New("dedupe: invalid key")
	// ErrInvalidOption: an option has a value outside its documented range.
	ErrInvalidOption = errors.New("dedupe: invalid option")
	// ErrReplicaAcks: a store that waits for replicas (as
	// redisstore.WithReplicaAcks does) got fewer acknowledgements than it
	// asked for within its timeout, or an error from the wait: the value
	// is stored on the primary, but whether it survives a failover is
	// unknown. The guard does not send such a commit again: the wait would
	// only repeat.
	ErrReplicaAcks = errors.New("dedupe: the replicas did not acknowledge the commit")
)

// ConflictError reports that another run committed the key first. Value is
// the winner's committed value, decoded with the run's codec.
//
// In claim mode a run whose lease was taken over and whose taker committed
// gets a ConflictError whose Err is ErrLeaseLost, so both
// errors.As(err, &conflict) and errors.Is(err, ErrLeaseLost) hold.
type ConflictError[V any] struct {
	Key   string
	Value V
	Err   error // the reason, when more than a plain conflict (ErrLeaseLost); may be nil
}

func (e *ConflictError[V]) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("dedupe: key %q already committed by another run (%v)", e.Key, e.Err)
	}
	return fmt.Sprintf("dedupe: key %q already committed by another run", e.Key)
}

// Is makes errors.Is(err, ErrConflict) hold for every ConflictError.
func (e *ConflictError[V]) Is(target error) bool { return target == ErrConflict }

// Unwrap returns the reason, if any.
func (e *ConflictError[V]) Unwrap() error { return e.Err }

// DecodeError reports a stored value that the run's codec cannot decode. The
// run's function was not called and nothing was overwritten.
type DecodeError struct {
	Key string
	Err error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("dedupe: stored value of key %q cannot be decoded: %v", e.Key, e.Err)
}

func (e *DecodeError) Unwrap() error { return e.Err }

// Errors of the batch path.
var (
	// ErrBatchClosed: the Batch was closed before or while the call used it.
	ErrBatchClosed = errors.New("dedupe: batch closed")
	// ErrNotOwned: End or Release on a ticket that does not hold its key's
	// claim (a duplicate, a key in progress elsewhere, or one already ended
	// or released).
	ErrNotOwned = errors.New("dedupe: ticket does not own its key")
	// ErrReleased: Ticket.Result after Release: the key was given up
	// without a value; its work is not done.
	ErrReleased = errors.New("dedupe: ticket released without a value")
	// ErrUnknownOp: a BatchStore's Exec got an Op of an unknown kind; it
	// answers that op with this error (the seam's rule for store writers).
	ErrUnknownOp = errors.New("dedupe: unknown op kind")
)

// StoreError reports a failed store call: Redis down, a timeout, a refused
// command. Nothing is known about the key; do not acknowledge the message.
// ErrStoreClosed and context errors are returned as they are instead.
type StoreError struct {
	Op  string // what the guard was doing: "watching", "reading", "claiming"
	Key string
	Err error
}

func (e *StoreError) Error() string {
	return fmt.Sprintf("dedupe: %s key %q: %v", e.Op, e.Key, e.Err)
}

func (e *StoreError) Unwrap() error { return e.Err }

// errOwnerOutlasted is Run's error when another owner still held the key
// at WithMaxWait's bound: ErrWaitTimeout and ErrInProgress.
var errOwnerOutlasted = fmt.Errorf("%w: %w", ErrWaitTimeout, ErrInProgress)
