package dedupe

import (
	"errors"
	"time"
)

// A commit or a release is idempotent (a retried commit finds its own
// value and stores it again, a retried release finds nothing to do), so one
// that failed - a reset connection, a Redis restart, a failover - is sent
// again until it gets an answer or the commit timeout runs out: a transient
// failure then costs a short wait instead of an unknown outcome, whose key
// would stay blocked until the claim's lease ends. Answers are not sent
// again: a decode error, a closed store, an invalid op, or too few replica
// acknowledgements (ErrReplicaAcks).

// retryBackoff is the wait before attempt n+1 (n from 0): 25ms doubling up
// to 1s.
func retryBackoff(n int) time.Duration {
	return min(25*time.Millisecond<<min(n, 6), time.Second)
}

// retryable reports a store failure worth sending again.
func retryable(err error) bool {
	return err != nil && !errors.Is(err, ErrStoreClosed) && !errors.Is(err, ErrInvalidOption) &&
		!errors.Is(err, ErrReplicaAcks) && !isDecodeError(err)
}

// isDecodeError is errors.As(err, *DecodeError) in a function of its own,
// so that its target escapes to the heap only when there is an error.
func isDecodeError(err error) bool {
	var decode *DecodeError
	return errors.As(err, &decode)
}

// retryBefore reports whether attempt n+1 can still be made before deadline.
func retryBefore(deadline time.Time, n int) bool {
	return time.Until(deadline) > retryBackoff(n)
}
