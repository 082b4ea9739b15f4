package idemqwatermill

import (
	"errors"
	"fmt"

	"github.com/idemq/idemq/dedupe"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrNoKey: the message carries no idempotency key (KeyFuncs return it,
	// wrapped); Config.InvalidKey decides.
	ErrNoKey = errors.New("idemqwatermill: message has no idempotency key")
	// ErrOutputsTooLarge: the handler's outputs, encoded, exceed
	// Config.MaxOutputBytes; nothing was committed. It is Poisonable.
	ErrOutputsTooLarge = errors.New("idemqwatermill: outputs larger than Config.MaxOutputBytes")
	// ErrStartTimeout: the handler did not start within Config.StartTimeout
	// (Redis unreachable, or another owner still working on the key).
	ErrStartTimeout = errors.New("idemqwatermill: handler did not start within the start timeout")
)

// KeyError reports, under KeyReject, a message without a valid key: the
// KeyFunc failed (ErrNoKey, or its own error), or returned a key the store
// refuses (dedupe.ErrInvalidKey). The handler did not run; the message is
// nacked. It is Poisonable: a redelivery would fail the same way.
type KeyError struct {
	UUID string // the message's UUID
	Err  error
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("idemqwatermill: key of message %q: %v", e.UUID, e.Err)
}

func (e *KeyError) Unwrap() error { return e.Err }

// GuardError reports that the guard, not the handler, failed a message: the
// store is unreachable or closed, the commit's outcome is unknown
// (dedupe.ErrCommitUnknown), the lease was lost before the commit
// (dedupe.ErrLeaseLost), another owner holds the key (dedupe.ErrInProgress,
// with NoWait), or the handler did not start in time (ErrStartTimeout). The
// message is nacked so that a redelivery decides; it must never be acked.
// Err is the cause, matchable with errors.Is.
type GuardError struct {
	Key string // the KeyFunc's key
	Err error
}

func (e *GuardError) Error() string {
	return fmt.Sprintf("idemqwatermill: guard of key %q: %v", e.Key, e.Err)
}

func (e *GuardError) Unwrap() error { return e.Err }

// Poisonable reports whether err may go to a poison queue. Pass it to
// Watermill's middleware.PoisonQueueWithFilter. The handler's own errors and
// bad messages (*KeyError, a stored outcome that does not decode) are
// poisonable; the guard's other failures (*GuardError) are not: a poison
// queue acks the message, and those must be nacked and redelivered.
func Poisonable(err error) bool {
	if err == nil {
		return false
	}
	var guard *GuardError
	var decode *dedupe.DecodeError
	return !errors.As(err, &guard) || errors.As(err, &decode)
}
