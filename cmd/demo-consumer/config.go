package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// config is what a run does; parseFlags fills it from the command line,
// tests build it from defaultConfig.
type config struct {
	Brokers    string        // Kafka bootstrap addresses, comma-separated; "" starts an in-process broker
	Redis      string        // Redis address, cluster seeds or redis:// URL; "" starts an in-process server
	Postgres   string        // PostgreSQL URL; "" runs no PostgreSQL phase (see postgres.go)
	Topic      string        // base name of the run's topics; "" means idemq-demo-<run id>
	Group      string        // base name of the run's consumer groups; "" means the topic's base name
	Prefix     string        // Redis key prefix; the run's keys live under <prefix><run id>:
	Partitions int           // partitions of each topic the demo creates
	Messages   int           // messages produced, duplicates included
	Duplicates float64       // share of the messages that repeat an earlier key
	Consumers  int           // consumers in the group at the start
	Mode       string        // "kafka" (idemq's Kafka adapter) or "watermill" (Watermill router + idemq middleware)
	Compare    bool          // first run the same workload through a plain kafka-go consumer
	Work       time.Duration // time each handler spends on its "payment call" before the ledger entry
	KillAt     float64       // share of the messages handled when one consumer is stopped abruptly
	Keep       bool          // keep the topics, groups, Redis keys and PostgreSQL tables for inspection
	Timeout    time.Duration // bound on the whole run
	Logger     *slog.Logger  // the consumers' and adapters' logs; nil: silent
}

const (
	modeKafka     = "kafka"
	modeWatermill = "watermill"
)

func defaultConfig() config {
	return config{
		Prefix: "idemq-demo:", Partitions: 6, Messages: 8000, Duplicates: 0.2, Consumers: 3,
		Mode: modeKafka, Compare: true, Work: time.Millisecond, KillAt: 0.4, Timeout: 3 * time.Minute,
	}
}

// parseFlags parses the command line. -compare defaults to on with the
// in-process broker and off against a real one.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	cfg := defaultConfig()
	fs := flag.NewFlagSet("demo-consumer", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { usage(fs) }
	fs.StringVar(&cfg.Brokers, "brokers", "", "Kafka bootstrap `addresses`, comma-separated (default: an in-process Kafka-protocol broker, kfake)")
	fs.StringVar(&cfg.Redis, "redis", "", "Redis `address` (host:port, redis:// URL, or comma-separated cluster seeds) (default: an in-process server, miniredis)")
	fs.StringVar(&cfg.Postgres, "postgres", "", "PostgreSQL `URL`: add idemq on the PostgreSQL store (effects written in the key's transaction), and crash the consumer with all its connections, its store's too; needs -redis (default: none)")
	fs.StringVar(&cfg.Topic, "topic", "", "base `name` of the topics the demo creates, one per phase: <name>.plain, <name>.idemq (default idemq-demo-<run id>)")
	fs.StringVar(&cfg.Group, "group", "", "base `name` of the consumer groups, one per phase (default: the topic's base name)")
	fs.StringVar(&cfg.Prefix, "prefix", cfg.Prefix, "Redis key `prefix`; the run's keys live under <prefix><run id>:")
	fs.IntVar(&cfg.Partitions, "partitions", cfg.Partitions, "partitions of each topic")
	fs.IntVar(&cfg.Messages, "messages", cfg.Messages, "messages the producer publishes, duplicates included")
	fs.Float64Var(&cfg.Duplicates, "duplicates", cfg.Duplicates, "`rate` of messages that repeat an earlier idempotency key (0 to 0.9)")
	fs.IntVar(&cfg.Consumers, "consumers", cfg.Consumers, "consumers in the group at the start")
	fs.StringVar(&cfg.Mode, "mode", cfg.Mode, "idemq side: kafka (the Kafka adapter) or watermill (a Watermill router with the idemq middleware)")
	fs.BoolVar(&cfg.Compare, "compare", false, "first run the workload through a plain kafka-go consumer (default true with the in-process broker, false with -brokers)")
	fs.DurationVar(&cfg.Work, "work", cfg.Work, "time each handler spends before its ledger entry")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the topics, consumer groups, Redis keys and PostgreSQL tables (default: removed at the end)")
	fs.DurationVar(&cfg.Timeout, "timeout", cfg.Timeout, "give up after this long")
	verbose := fs.Bool("v", false, "log the consumers' warnings and errors to stderr")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("demo: unexpected arguments %q", fs.Args())
	}
	if !isSet(fs, "compare") {
		cfg.Compare = cfg.Brokers == ""
	}
	if *verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	return cfg, cfg.validate()
}

func usage(fs *flag.FlagSet) {
	fmt.Fprintf(fs.Output(), `Usage: demo-consumer [flags]

Publishes order messages, some of them twice (producer retries, replays on
other partitions), and consumes them with a consumer group of which one
member is stopped abruptly mid-run. Each handler writes a ledger entry to
Redis; the report shows how many keys got more than one without idemq and
checks that every key got exactly one with it. Exit status 1 when that fails.

With no flags everything runs in this process (kfake and miniredis).

With -postgres a third consumer writes its effects as rows of a PostgreSQL
table, in the transaction that holds the key (dedupe/pgstore), and the
crash cuts every connection of the stopped member, its store's included:
idemq on Redis then runs again the effect that was done before the crash
and whose commit never reached Redis (its documented window), idemq on
PostgreSQL rolls it back with the key and does it once. It needs a real
Redis (-redis): the in-process one never expires a crashed member's claims.

Flags:
`)
	fs.PrintDefaults()
}

func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func (c config) validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("demo: "+format, args...))
		}
	}
	check(c.Messages >= 10 && c.Messages <= 10_000_000, "-messages %d: want 10 to 10,000,000", c.Messages)
	check(c.Duplicates >= 0 && c.Duplicates <= 0.9, "-duplicates %v: want 0 to 0.9", c.Duplicates)
	check(c.Consumers >= 1 && c.Consumers <= 64, "-consumers %d: want 1 to 64", c.Consumers)
	check(c.Partitions >= 1 && c.Partitions <= 1000, "-partitions %d: want 1 to 1000", c.Partitions)
	check(validName(c.Topic), "-topic %q: want up to 200 of a-z A-Z 0-9 . _ - (Kafka's topic names)", c.Topic)
	check(validName(c.Group), "-group %q: want up to 200 of a-z A-Z 0-9 . _ -", c.Group)
	for _, b := range c.brokerList() {
		check(strings.TrimSpace(b) != "", "-brokers %q: an empty address", c.Brokers)
	}
	check(c.Mode == modeKafka || c.Mode == modeWatermill, "-mode %q: want kafka or watermill", c.Mode)
	check(c.Postgres == "" || c.Mode == modeKafka, "-postgres runs with -mode kafka only")
	// miniredis expires keys only when told that time passed: the crashed
	// member's claims would hold their keys for ever.
	check(c.Postgres == "" || c.Redis != "", "-postgres needs a real Redis (-redis): the in-process one never expires the crashed consumer's claims")
	if c.Postgres != "" {
		_, err := pgxpool.ParseConfig(c.Postgres)
		check(err == nil, "-postgres: %v", err)
	}
	check(c.Work >= 0, "-work %v: want 0 or more", c.Work)
	check(c.KillAt > 0 && c.KillAt < 1, "kill point %v: want between 0 and 1", c.KillAt)
	check(c.Timeout > 0, "-timeout %v: want more than 0", c.Timeout)
	check(!strings.ContainsAny(c.Prefix, "{}"), "-prefix %q: braces are not allowed", c.Prefix)
	return errors.Join(errs...)
}

// validName reports a name the demo can build topic and group names from
// (empty: the default).
func validName(s string) bool {
	if len(s) > 200 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func (c config) brokerList() []string {
	if c.Brokers == "" {
		return nil
	}
	return strings.Split(c.Brokers, ",")
}
