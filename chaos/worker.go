package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// workerCommand is the hidden subcommand that makes this binary one
// consumer process: the run re-executes itself with it, so that a SIGKILL
// kills a real process, connections, goroutines and all.
const workerCommand = "_worker"

// Worker roles.
const (
	roleKafka     = "kafka"     // idemq's Kafka adapter (idemqkafka.Consumer)
	roleWatermill = "watermill" // a Watermill router with idemq's middleware
	roleFranz     = "franz"     // idemq's franz-go adapter (idemqfranz.Consumer)
)

// workerConfig is what the run passes a worker on its command line.
type workerConfig struct {
	Role     string
	Instance string // member name and incarnation, "k2.3": the value it commits
	Journal  string
	Redis    string // the guard's Redis, through the fault proxy
	Effects  string // the same Redis, directly: where the handlers' effects write
	Brokers  string // Kafka, through the fault proxy
	Topic    string
	Group    string
	DLT      string // dead-letter topic (Kafka adapter)
	Prefix   string // the guard's key prefix
	Store    string // storeRedis or storePostgres
	Postgres string // -store postgres: the run's PostgreSQL, through the fault proxy
	Work     time.Duration
	Verbose  bool
}

func (w workerConfig) args() []string {
	return []string{workerCommand, "-role", w.Role, "-instance", w.Instance, "-journal", w.Journal,
		"-redis", w.Redis, "-effects", w.Effects, "-brokers", w.Brokers, "-topic", w.Topic, "-group", w.Group, "-dlt", w.DLT,
		"-prefix", w.Prefix, "-store", w.Store, "-postgres", w.Postgres, "-work", w.Work.String(), fmt.Sprintf("-v=%t", w.Verbose)}
}

func parseWorkerFlags(args []string) (workerConfig, error) {
	var w workerConfig
	fs := flag.NewFlagSet(workerCommand, flag.ContinueOnError)
	fs.StringVar(&w.Role, "role", "", "kafka, watermill or franz")
	fs.StringVar(&w.Instance, "instance", "", "member name and incarnation")
	fs.StringVar(&w.Journal, "journal", "", "journal file")
	fs.StringVar(&w.Redis, "redis", "", "Redis address")
	fs.StringVar(&w.Effects, "effects", "", "Redis address of the handlers' effects")
	fs.StringVar(&w.Brokers, "brokers", "", "Kafka bootstrap address")
	fs.StringVar(&w.Topic, "topic", "", "topic")
	fs.StringVar(&w.Group, "group", "", "consumer group")
	fs.StringVar(&w.DLT, "dlt", "", "dead-letter topic")
	fs.StringVar(&w.Prefix, "prefix", "", "guard key prefix")
	fs.StringVar(&w.Store, "store", storeRedis, "redis or postgres")
	fs.StringVar(&w.Postgres, "postgres", "", "PostgreSQL URL (-store postgres)")
	fs.DurationVar(&w.Work, "work", time.Millisecond, "handler time")
	fs.BoolVar(&w.Verbose, "v", false, "log warnings to stderr")
	if err := fs.Parse(args); err != nil {
		return w, err
	}
	if w.Role != roleKafka && w.Role != roleWatermill && w.Role != roleFranz || w.Journal == "" || w.Brokers == "" {
		return w, fmt.Errorf("chaos: %s: -role, -journal and -brokers are required", workerCommand)
	}
	if w.Store == storePostgres && w.Postgres == "" || w.Store != storePostgres && (w.Redis == "" || w.Effects == "") {
		return w, fmt.Errorf("chaos: %s: -store postgres requires -postgres, -store redis -redis and -effects", workerCommand)
	}
	return w, nil
}

// runWorker is a worker process's main: it consumes until SIGTERM (a
// graceful stop: Run's ctx is cancelled and it drains) or until killed.
func runWorker(args []string) int {
	w, err := parseWorkerFlags(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	j, err := openJournal(w.Journal)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer j.close()
	err = consume(ctx, w, j)
	why := "stopped"
	if err != nil {
		why = "failed"
		fmt.Fprintf(os.Stderr, "chaos: worker %s: %v\n", w.Instance, err)
	}
	j.log(evExit, why)
	if err != nil {
		return 1
	}
	return 0
}

func consume(ctx context.Context, w workerConfig, j *journal) error {
	if w.Store == storePostgres {
		return consumePG(ctx, w, j)
	}
	client := redis.NewClient(&redis.Options{Addr: w.Redis}) // go-redis defaults: ReadTimeout 3s, MaxRetries 3
	defer client.Close()
	effects := redis.NewClient(&redis.Options{Addr: w.Effects}) // the same defaults
	defer effects.Close()
	fx := &handler{j: j, work: w.Work, effects: effects, prefix: "effect:" + w.Prefix, instance: w.Instance}
	logger := slog.New(slog.DiscardHandler)
	if w.Verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	switch w.Role {
	case roleKafka:
		return runKafka(ctx, w, client, fx, logger)
	case roleFranz:
		return runFranz(ctx, w, client, fx, logger)
	default:
		return runWatermill(ctx, w, client, fx, logger)
	}
}

// handler is every role's message handler: journal the start (and whether
// its ctx was cancelled already: a handler started on a lost lease), work for
// between Work and 2×Work (preparing a payment call), then, unless the
// context was cancelled meanwhile (it honours its ctx, as the guard
// requires), make the effect and journal it. The caller then calls end:
// the effect is durable before the commit point.
//
// The effect takes time, as a payment call does, and once begun it is not
// cancelled: it is a write to the guard's redis-server (a SET of the key,
// sent there directly, not through the proxy), sent with the ctx's
// cancellation removed and sent again until it lands, so that it waits out
// a Redis stall. A Redis write pause therefore holds every effect in
// flight, while their keys' claims wait for Redis too.
type handler struct {
	j        *journal
	work     time.Duration
	effects  redis.UniversalClient
	prefix   string // of the effects' Redis keys
	instance string // the effects' value
}

func (h *handler) handle(ctx context.Context, key string) error {
	if ctx.Err() != nil {
		h.j.write(entry{kind: evStart, key: key}, entry{kind: evDeadStart, key: key})
	} else {
		h.j.log(evStart, key)
	}
	if h.work > 0 {
		t := time.NewTimer(h.work + rand.N(h.work+1))
		select {
		case <-ctx.Done():
			t.Stop()
		case <-t.C:
		}
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	h.effect(context.WithoutCancel(ctx), key)
	h.j.log(evEffect, key)
	return nil
}

// effect writes key's effect, retrying until Redis takes it (a SET is
// idempotent: a retry of one that landed changes nothing).
func (h *handler) effect(ctx context.Context, key string) {
	for err := h.set(ctx, key); err != nil; err = h.set(ctx, key) {
		time.Sleep(50 * time.Millisecond)
	}
}

func (h *handler) set(ctx context.Context, key string) error {
	return h.effects.Set(ctx, h.prefix+key, h.instance, effectTTL).Err()
}

// effectTTL bounds the effects' memory in the run's Redis.
const effectTTL = 10 * time.Minute

// reportStats journals stats() every second until the returned stop, and
// once more then.
func reportStats(j *journal, stats func() string) (stop func()) {
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-done:
				j.log(evStats, stats())
				return
			case <-tick.C:
				j.log(evStats, stats())
			}
		}
	}()
	return func() { close(done); <-ended }
}
