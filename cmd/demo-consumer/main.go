// Command demo-consumer shows idemq's exactly-once effects under
// redelivery: a producer publishes orders, some of them twice; a consumer
// group handles them while one member is stopped abruptly and another
// joins; each handler writes a ledger entry to Redis. The same workload
// goes first through a plain kafka-go consumer, whose double effects the
// report shows next to idemq's none.
//
// With -postgres a third consumer, idemq on the PostgreSQL store, writes
// its effects as rows in the transaction that holds the key, and the crash
// cuts every connection of the stopped member, its store's too: idemq on
// Redis then does again an effect whose commit never reached Redis (its
// documented window), idemq on PostgreSQL rolls it back and does it once.
//
//	go run ./cmd/demo-consumer                                     # everything in-process
//	go run ./cmd/demo-consumer -brokers 127.0.0.1:9092 -redis 127.0.0.1:6379 -compare
//	go run ./cmd/demo-consumer -redis 127.0.0.1:16379 -postgres postgres://idemq@127.0.0.1:15432/idemq
//
// Run with -h for the flags. The exit status is 1 when a key did not get
// exactly one ledger entry with idemq (with -postgres, on Redis: got none),
// or the run failed; 2 for bad flags.
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

func main() { os.Exit(realMain()) }

func realMain() int {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r, err := run(ctx, cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if !r.passed() {
		return 1
	}
	return 0
}
