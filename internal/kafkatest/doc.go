// Package kafkatest is the scenario table both Kafka adapters pass on the
// real broker: idemqkafka (segmentio/kafka-go) and idemqfranz (franz-go).
// Each adapter's scenario_test.go implements a Driver for its client and
// calls Run:
//
//	func TestScenarios(t *testing.T) { kafkatest.Run(t, newDriver(t)) }
//
// A scenario starts members of a consumer group through the Driver with an
// adapter-neutral Config, produces Messages to chosen partitions, and checks
// what a user can see: handler runs and effects, OnDuplicate's winners, dead
// letters and their headers, the group's committed offsets, Run's error,
// Stats. The groups:
//
//   - Outcomes: processed and duplicate (Redis, Valkey), optimistic mode,
//     TxStore (PostgreSQL), commit batching.
//   - Failures: handler retries, dead letters with their headers, a failed
//     message without a dead-letter topic, invalid keys under each
//     KeyPolicy, a key reused for another payload.
//   - Ordering: each Ordering's concurrency, one key never twice at once,
//     one key on two partitions at once runs once, the committed prefix.
//   - Shutdown: draining, the drain timeout, Run twice.
//   - Rebalance: a rebalance cancels the handlers of partitions that move;
//     exactly-once effects while members join and leave.
//   - Faults: Redis unreachable, a lease lost, a commit unknown; Redis
//     paused for writes mid-stream; a member SIGKILLed mid-stream.
//   - Config: the shared fields' config errors.
//   - Processor: the single-message Processor's outcomes: processed then
//     duplicate, a failure that commits nothing, one key at once, no key,
//     a cancelled ctx.
//   - Metrics: Config.MeterProvider exports every counter of Stats, and the
//     in-flight gauge, under the adapter's prefix with Stats' values, for a
//     Consumer and for a Processor.
//
// An adapter's own tests (what only that adapter does) start from the same
// helpers: NewEnv (a topic, a group, a store and the group's Committed
// offsets and Lag), FastConfig translated by their Driver, Start (a Run in
// the background, stopped at the end of the test) and Eventually.
//
// The SIGKILL scenario re-executes the test binary as a member of the
// group: Run recognises the child by its environment and runs the member
// until it is killed.
//
// Nothing but tests imports this package (internal/archtest checks it), and
// it imports neither adapter.
package kafkatest
