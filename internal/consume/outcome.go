package consume

// Outcome is a message's final outcome: each means its offset may be
// committed (once every earlier offset of its partition may be too).
type Outcome int

const (
	Processed           Outcome = iota + 1 // the handler's commit won, or a taker of this owner's lease committed
	Duplicate                              // the key was committed already; OnDuplicate succeeded
	DeadLettered                           // the dead-letter write was acknowledged
	ProcessedWithoutKey                    // KeyProcess: the handler succeeded without the guard
)
