package consumer

// Outcome is the final outcome of one message. Every Outcome means the
// message's offset may be committed (once every earlier offset of its
// partition may be too). The zero value is no outcome yet.
type Outcome int

const (
	// Processed: the handler succeeded and its commit won, or a run that took
	// over this member's lease committed the key (the work is done).
	Processed Outcome = iota + 1
	// Duplicate: the key was already committed; the handler did not run,
	// OnDuplicate (if set) succeeded with the winner's value.
	Duplicate
	// DeadLettered: the message failed every attempt (or had no valid key
	// under KeyDeadLetter) and the dead-letter write was acknowledged.
	DeadLettered
	// ProcessedWithoutKey: no valid key under KeyProcess; the handler
	// succeeded without deduplication.
	ProcessedWithoutKey
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
