package idemqfranz

import (
	"errors"
	"fmt"
)

// Sentinel errors, matched with errors.Is.
var (
	// ErrNoKey: the record carries no idempotency key (HeaderKey found no
	// such header). What happens next is Config.InvalidKey's policy.
	ErrNoKey = errors.New("idemqfranz: record has no idempotency key")
	// ErrRevoked is the cause (context.Cause) of a handler's ctx when its
	// partition is revoked in a rebalance: another member will own it.
	ErrRevoked = errors.New("idemqfranz: partition revoked (rebalance)")
	// ErrLost is the cause of a handler's ctx when its partition is lost
	// (the member was fenced or its session expired): nothing of it is
	// committed.
	ErrLost = errors.New("idemqfranz: partition lost")
	// ErrDrainTimeout is the cause of a handler's ctx when Run's ctx was
	// cancelled and the handler outlived Config.DrainTimeout.
	ErrDrainTimeout = errors.New("idemqfranz: drain timeout exceeded")
	// ErrRunning: Run was called while another Run of the same Consumer is
	// still running.
	ErrRunning = errors.New("idemqfranz: consumer is already running")
)

// MessageError is the error that stops a Consumer (or that Process returns)
// for one record whose outcome can never become final on its own: its
// handler failed every attempt and no dead-letter topic is configured, or
// its key is invalid under the KeyReject policy. Nothing at or past its
// offset is committed.
type MessageError struct {
	Topic     string
	Partition int32
	Offset    int64
	Key       string // the idempotency key, "" when it could not be read
	Attempts  int    // handler attempts made (0 for a key error)
	Err       error  // the handler's last error, or the key error
}

func (e *MessageError) Error() string {
	if e.Attempts > 0 {
		return fmt.Sprintf("idemqfranz: record %s/%d@%d (key %q) failed %d attempts: %v",
			e.Topic, e.Partition, e.Offset, e.Key, e.Attempts, e.Err)
	}
	return fmt.Sprintf("idemqfranz: record %s/%d@%d: %v", e.Topic, e.Partition, e.Offset, e.Err)
}

func (e *MessageError) Unwrap() error { return e.Err }
