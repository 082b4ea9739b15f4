// Package kafka (imported as dedupekafka) will wrap a segmentio/kafka-go
// consumer group: fetch, run the handler inside a dedupe guard, and commit
// only a contiguous prefix of finished offsets per partition.
//
// It is a stub until its issue lands.
package kafka
