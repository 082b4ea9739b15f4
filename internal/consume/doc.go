// Package consume is idemq's consumer engine: it takes the messages of a
// partitioned log to a final outcome each, inside the dedupe guard, and
// says which offsets may be committed. It knows no broker: adapters feed it
// batches of their own message type M, described by a Log, and take its
// results through the functions of Config (dead letters) and SessionConfig
// (offset commits). The Kafka adapter (adapters/kafka) is the kafka-go
// plumbing around it.
//
// # One message's path
//
//	Session.Partition      a partition's batches, as the log delivers them
//	  partitionRun         batches in flight per partition (Ordering), offsets in order
//	    runBatch           one batch, in waves: claim all keys, run, settle, await
//	      chain            the messages that must run one after another
//	        step           one message: its claim's answer decides
//	          execute      the handler, retried in place, then End: the commit is queued
//	          duplicate    OnDuplicate with the winner's value
//	          deadLetter   the sink's DeadLetter, retried while the error is transient
//	        settler        the commits' outcomes, applied in order as they arrive
//	    offsets            the contiguous prefix of final outcomes
//	  committer            commits positions every CommitEvery outcomes or CommitInterval
//
// # Rules
//
//   - An offset is committable only when its message's outcome is final,
//     and only as part of its partition's contiguous prefix of final
//     outcomes: never past a message that is running, waiting or failed.
//   - Store errors are never handler failures: the message goes back to be
//     claimed, with backoff, until the store answers.
//   - A chain never waits long for a key another owner holds while it holds
//     claims it has not started (hold-and-wait): it waits briefly, then
//     releases what it has not started, settles what it ended, and awaits
//     holding nothing.
//   - Two messages with one idempotency key never run at once in one
//     process (the guard's Batch single-flights a key).
package consume
