package consumer

import "fmt"

// Ordering says which messages of one partition may be processed at once.
// In every mode, two messages with the same idempotency key never run at
// once in one process, and offsets are committed only as a contiguous
// prefix. The zero value is ByPartition.
type Ordering int

const (
	// ByPartition processes a partition's messages one after another, in
	// offset order (Kafka's own guarantee). The default.
	ByPartition Ordering = iota
	// ByKey keeps offset order among messages with the same Kafka message
	// key and runs different keys at once (messages without a Kafka key are
	// unordered).
	ByKey
	// Unordered runs any messages at once, up to the adapter's MaxInFlight.
	Unordered
)

func (o Ordering) String() string {
	switch o {
	case ByPartition:
		return "by partition"
	case ByKey:
		return "by key"
	case Unordered:
		return "unordered"
	}
	return fmt.Sprintf("Ordering(%d)", int(o))
}
