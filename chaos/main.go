// Command chaos is `make chaos`: a bounded fault run of idemq's adapters
// against real Kafka and Redis, which counts what was lost and what ran
// twice.
//
// It starts a redis-server of its own (AOF, appendfsync everysec) for the
// guard, and uses the shared Kafka broker: the producer writes to it
// directly, the consumers reach it through a fault proxy on the broker's
// CHAOS listener (scripts/services.sh), and reach Redis through another.
// Consumer processes are this binary re-executed with a hidden
// subcommand: Kafka adapter consumers (idemqkafka) in one group, a pair
// of Watermill routers (watermill-kafka, Sarama) with idemq's middleware
// on a topic of their own, and a pair of franz-go adapter consumers
// (idemqfranz) in a group and on a topic of their own. Every handler journals its effect
// (an append-only file per process, written before it calls end), and the
// guard's claims and commits are journaled by a store wrapper.
//
// While the producer publishes, a schedule drawn from -seed SIGKILLs and
// restarts consumers, stops some gracefully, SIGKILLs and restarts Redis,
// pauses its writes longer than the queued lease, and adds latency,
// dropped connections and freezes on the Redis and Kafka links. Then the run waits for lag 0 and reads the journals: every key
// must have an effect, and every extra effect must be explained: (a) the
// earlier one's process was SIGKILLed holding the key before its commit
// landed (at most its handlers in flight then), or (b) its claim or
// commit fell within the last seconds a Redis restart may lose. The exit
// status is 1 otherwise, 2 for bad flags.
//
// With -store postgres the consumers keep their keys in a PostgreSQL of
// the run's own (dedupe/pgstore, through a fault proxy) and each handler
// inserts its effect row in the transaction that holds its key; the faults
// are SIGKILLs, SIGTERMs, terminated backends, PostgreSQL restarts
// (immediate stop), PostgreSQL link cuts and freezes, COMMIT answers lost,
// and the Kafka ones.
// The verdict is read from the effects table: every key has exactly one
// row, or the run fails.
//
//	go run ./chaos            # the default run: 100,000 + 20,000 + 20,000 messages, 16 faults, about 3 minutes (at most 5)
//	go run ./chaos -short     # the short form: under 2 minutes
//	go run ./chaos -store postgres   # effects as rows in PostgreSQL
//	go run ./chaos -h         # the flags
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(realMain(os.Args[1:])) }

func realMain(args []string) int {
	if len(args) > 0 && args[0] == workerCommand {
		return runWorker(args[1:])
	}
	cfg, err := parseFlags(args, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := execute(ctx, cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	rep.write(os.Stdout)
	if !rep.pass() {
		return 1
	}
	return 0
}
