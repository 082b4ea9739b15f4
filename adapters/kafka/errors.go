package kafka

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrInvalidConfig: NewConsumer or NewProcessor was given a Config it
	// cannot run with; the message says which field.
	ErrInvalidConfig = errors.New("kafka: invalid config")
	// ErrNoKey: the message carries no idempotency key (HeaderKey found no
	// such header). What happens next is Config.InvalidKey's policy.
	ErrNoKey = errors.New("kafka: message has no idempotency key")
	// ErrRebalance is the cause (context.Cause) of a handler's ctx when the
	// consumer-group generation ends: this member may lose the partition.
	ErrRebalance = errors.New("kafka: consumer-group generation ended (rebalance)")
	// ErrDrainTimeout is the cause of a handler's ctx when Run's ctx was
	// cancelled and the handler outlived Config.DrainTimeout.
	ErrDrainTimeout = errors.New("kafka: drain timeout exceeded")
	// ErrRunning: Run was called while another Run of the same Consumer is
	// still running.
	ErrRunning = errors.New("kafka: consumer is already running")
)

// MessageError is the error that stops a Consumer (or that Process returns)
// for one message whose outcome can never become final on its own: its
// handler failed every attempt and no dead-letter topic is configured, or
// its key is invalid under the KeyStop policy. Nothing at or past its offset
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
		return fmt.Sprintf("kafka: message %s/%d@%d (key %q) failed %d attempts: %v",
			e.Topic, e.Partition, e.Offset, e.Key, e.Attempts, e.Err)
	}
	return fmt.Sprintf("kafka: message %s/%d@%d: %v", e.Topic, e.Partition, e.Offset, e.Err)
}

func (e *MessageError) Unwrap() error { return e.Err }

// invalid wraps ErrInvalidConfig with a reason.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidConfig}, args...)...)
}
