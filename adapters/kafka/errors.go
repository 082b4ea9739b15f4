package idemqkafka

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrNoKey: the message carries no idempotency key (HeaderKey found no
	// such header). What happens next is Config.InvalidKey's policy.
	ErrNoKey = errors.New("idemqkafka: message has no idempotency key")
	// ErrRebalance is the cause (context.Cause) of a handler's ctx when the
	// consumer-group generation ends: this member may lose the partition.
	ErrRebalance = errors.New("idemqkafka: consumer-group generation ended (rebalance)")
	// ErrDrainTimeout is the cause of a handler's ctx when Run's ctx was
	// cancelled and the handler outlived Config.DrainTimeout.
	ErrDrainTimeout = errors.New("idemqkafka: drain timeout exceeded")
	// ErrRunning: Run was called while another Run of the same Consumer is
	// still running.
	ErrRunning = errors.New("idemqkafka: consumer is already running")
)

// MessageError is the error that stops a Consumer (or that Process returns)
// for one message whose outcome can never become final on its own: its
// handler failed every attempt and no dead-letter topic is configured, or
// its key is invalid under the KeyReject policy. Nothing at or past its offset
// is committed.
type MessageError struct {
	Topic     string
	Partition int
	Offset    int64
	Key       string // the idempotency key, "" when it could not be read
	Attempts  int    // handler attempts made (0 for a key error)
	Err       error  // the handler's last error, or the key error
}

func (e *MessageError) Error() string {
	if e.Attempts > 0 {
		return fmt.Sprintf("idemqkafka: message %s/%d@%d (key %q) failed %d attempts: %v",
			e.Topic, e.Partition, e.Offset, e.Key, e.Attempts, e.Err)
	}
	return fmt.Sprintf("idemqkafka: message %s/%d@%d: %v", e.Topic, e.Partition, e.Offset, e.Err)
}

func (e *MessageError) Unwrap() error { return e.Err }
