// Command bench measures idemq against the plain consumers it wraps, on the
// real services of `make services`, and writes the tables of issues 13 and
// 24 to 27 to bench/RESULTS.md from one run: Kafka consumers (raw kafka-go,
// raw franz-go, the idemq consumer on kafka-go on every store and on
// franz-go on three), Kafka consumers whose handler does I/O (a Redis INCR,
// or 2ms on a timer: a plain loop sequential per partition against the
// idemq consumer in each Ordering), Kafka consumers whose effects are rows
// in PostgreSQL (a hand-written loop of one transaction per message against
// the idemq consumer on pgstore), the batch path against a two-write Redis
// floor, the Watermill middleware, the HTTP middleware (a bare handler
// against idemqhttp on Redis, 64 clients, with their latencies), and the
// server memory a committed key takes (dedupe.Run's and dedupe.Batch's
// records against a plain marker and against the value stored alone, on
// Redis and Valkey).
//
//	make bench                      # starts the services, then go run ./bench
//	go run ./bench -only 'kafka/raw|floor' -rounds 1
//	go run ./bench -only postgres   # the PostgreSQL rows alone
//	go run ./bench -only 'kafka-(incr|2ms)/'  # the rows whose handler does I/O
//	go run ./bench -only '^memory/' # bytes per committed key
//
// Rounds are interleaved (round 1 of every row, then round 2, ...) and every
// row reports its median, min and max. Everything the run creates (topics,
// consumer groups, Redis keys under a prefix of its own (the memory rows':
// the store's default prefix and the run's random hex), PostgreSQL tables
// named after the run) is deleted at the end.
// The exit status is non-zero when a row fails (an error or a timeout), not
// when a target is missed.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	_, err := run(ctx, os.Args[1:], os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run is the whole program: it parses args, measures every selected row,
// writes the report, deletes what it created and returns the rows. The
// error is non-nil when the setup, a row or the cleanup failed; once the
// measurements started, the report is written either way.
func run(ctx context.Context, args []string, log io.Writer) (_ *results, err error) {
	opts, err := parseOptions(args, log)
	if err != nil {
		return nil, err
	}
	rows := plan(opts)
	if len(rows) == 0 {
		return nil, fmt.Errorf("-only %q selects no row", opts.only)
	}
	env, err := connect(ctx, opts, rows)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, env.close(log)) }()
	res := &results{opts: opts, started: time.Now(), env: env, rows: rows, machine: describe(env)}
	if err := env.setup(ctx, log); err != nil {
		return nil, err
	}
	stopProfile, err := startProfile(opts.cpuProfile)
	if err != nil {
		return nil, err
	}
	runRounds(ctx, env, rows, opts.rounds, log)
	stopProfile()
	res.elapsed, res.loadEnd = time.Since(res.started), loadAverage()
	if err := writeReport(opts.out, res); err != nil {
		return res, err
	}
	fmt.Fprintf(log, "bench: wrote %s (%s)\n", opts.out, res.elapsed.Round(time.Second))
	return res, res.failed()
}
