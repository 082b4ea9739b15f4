package idemqkafka

import "github.com/idemq/idemq/internal/consume"

// Outcome is the final outcome of one message. Every Outcome means the
// message's offset may be committed (once every earlier offset of its
// partition may be too).
type Outcome int

const (
	// Processed: the handler succeeded and its commit won, or a run that took
	// over this member's lease committed the key (the work is done).
	Processed = Outcome(consume.Processed)
	// Duplicate: the key was already committed; the handler did not run,
	// OnDuplicate (if set) succeeded with the winner's value.
	Duplicate = Outcome(consume.Duplicate)
	// DeadLettered: the message failed every attempt (or had no valid key
	// under KeyDeadLetter) and the dead-letter write was acknowledged.
	DeadLettered = Outcome(consume.DeadLettered)
	// ProcessedWithoutKey: no valid key under KeyProcess; the handler
	// succeeded without deduplication.
	ProcessedWithoutKey = Outcome(consume.ProcessedWithoutKey)
)

func (o Outcome) String() string {
	switch o {
	case Processed:
		return "processed"
	case Duplicate:
		return "duplicate"
	case DeadLettered:
		return "dead-lettered"
	case ProcessedWithoutKey:
		return "processed without key"
	}
	return "unknown"
}
