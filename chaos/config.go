package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
)

// config is what one chaos run does; parseFlags fills it from the command
// line, tests from defaultConfig or shortConfig.
type config struct {
	Seed       int64         // the schedule's and the workload's RNG seed
	Messages   int           // messages on the Kafka adapter's topic, duplicates included
	WMMessages int           // messages on the Watermill routers' topic
	FZMessages int           // messages on the franz-go adapter's topic
	Duplicates float64       // share of messages that repeat an earlier key
	Consumers  int           // Kafka adapter consumer processes
	Routers    int           // Watermill router processes
	Franz      int           // franz-go adapter consumer processes, in a group of their own
	Partitions int           // partitions of the Kafka adapter's topic
	WMParts    int           // partitions of the Watermill topic
	FZParts    int           // partitions of the franz-go adapter's topic
	Duration   time.Duration // how long the producer publishes; the faults happen meanwhile
	Density    float64       // faults per minute of Duration (0: the default count of each kind)
	Faults     []faultKind   // the kinds of fault to inject, instead of the default or short set
	Drain      time.Duration // bound on the wait for lag 0 after the last message
	Work       time.Duration // the handler's minimum time (it takes Work to 2×Work)
	Short      bool          // the short form: fewer messages, fewer faults
	Verbose    bool          // workers log warnings; the report prints the timeline
	Keep       bool          // keep the run directory, topics and groups
	Store      string        // where the consumers keep their keys and effects: storeRedis or storePostgres

	Brokers     string // Kafka bootstrap address for the producer and admin (direct)
	ChaosTarget string // the broker's CHAOS listener, the Kafka proxy's target
	ChaosProxy  string // where the Kafka proxy listens: the CHAOS listener's advertised address
	RedisServer string // the redis-server binary
	PGBin       string // the directory of PostgreSQL's binaries (initdb, postgres), for -store postgres
	Dir         string // run directory (journals, logs, Redis data); "" means a temp dir
	Worker      string // the binary re-executed as a worker; "" means this one
}

func defaultConfig() config {
	return config{
		Messages: 100_000, WMMessages: 20_000, FZMessages: 20_000, Duplicates: 0.2, Consumers: 3, Routers: 2, Franz: 2,
		Partitions: 12, WMParts: 6, FZParts: 6, Duration: 150 * time.Second, Drain: 90 * time.Second,
		Work:        time.Millisecond,
		Brokers:     env("IDEMQ_KAFKA_BROKERS", "127.0.0.1:19092"),
		ChaosTarget: env("IDEMQ_KAFKA_CHAOS_LISTENER", "127.0.0.1:19094"),
		ChaosProxy:  env("IDEMQ_KAFKA_CHAOS_PROXY", "127.0.0.1:19095"),
		RedisServer: "redis-server",
		Store:       storeRedis,
		PGBin:       "/usr/lib/postgresql/15/bin",
	}
}

// The stores of -store.
const (
	storeRedis    = "redis"    // the guard on a redis-server of the run's own, effects journaled
	storePostgres = "postgres" // pgstore on a PostgreSQL of the run's own, effects rows in the handlers' transactions
)

func (c config) postgres() bool { return c.Store == storePostgres }

// storeTitle names the run's store in the report.
func (c config) storeTitle() string {
	if c.postgres() {
		return "PostgreSQL"
	}
	return "Redis"
}

// shortConfig is the short form (-short): under 2 minutes on two cores.
func shortConfig() config {
	c := defaultConfig()
	c.Short = true
	c.Messages, c.WMMessages, c.FZMessages = 20_000, 4_000, 4_000
	c.Duration, c.Drain = 65*time.Second, 45*time.Second // 65s: the short set's 9 faults fit (see fitting)
	return c
}

func env(name, fallback string) string {
	if v := strings.Split(os.Getenv(name), ",")[0]; v != "" {
		return v
	}
	return fallback
}

// parseFlags parses the command line. -short first picks the short form's
// defaults; every other flag overrides them.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	cfg := defaultConfig()
	for _, a := range args {
		if a == "-short" || a == "--short" || a == "-short=true" {
			cfg = shortConfig()
		}
	}
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { usage(fs) }
	fs.Int64Var(&cfg.Seed, "seed", 0, "RNG `seed` of the fault schedule and the workload; 0 draws one from the clock (printed)")
	fs.IntVar(&cfg.Messages, "messages", cfg.Messages, "messages on the Kafka adapter's topic, duplicates included")
	fs.IntVar(&cfg.WMMessages, "watermill-messages", cfg.WMMessages, "messages on the Watermill routers' topic")
	fs.IntVar(&cfg.FZMessages, "franz-messages", cfg.FZMessages, "messages on the franz-go adapter's topic")
	fs.Float64Var(&cfg.Duplicates, "duplicates", cfg.Duplicates, "`rate` of messages that repeat an earlier key (0 to 0.5)")
	fs.IntVar(&cfg.Consumers, "consumers", cfg.Consumers, "Kafka adapter consumer processes in the group (at least 3)")
	fs.IntVar(&cfg.Routers, "routers", cfg.Routers, "Watermill router processes (0 to skip Watermill)")
	fs.IntVar(&cfg.Franz, "franz", cfg.Franz, "franz-go adapter consumer processes, in a group of their own (0 to skip franz-go)")
	fs.IntVar(&cfg.Partitions, "partitions", cfg.Partitions, "partitions of the Kafka adapter's topic")
	fs.DurationVar(&cfg.Duration, "duration", cfg.Duration, "how long the producer publishes; faults are injected meanwhile")
	fs.Float64Var(&cfg.Density, "density", cfg.Density, "faults per minute of -duration (0: the default set of faults)")
	fs.Func("faults", "comma-separated `kinds` of fault to inject instead of the default set, in random order: "+kindNames(), func(v string) error {
		kinds, err := parseKinds(v)
		cfg.Faults = kinds
		return err
	})
	fs.DurationVar(&cfg.Drain, "drain", cfg.Drain, "bound on the wait for group lag 0 after the last message")
	fs.DurationVar(&cfg.Work, "work", cfg.Work, "the handler's minimum time; each takes between this and twice this")
	fs.BoolVar(&cfg.Short, "short", cfg.Short, "the short form: "+shortDescription)
	fs.BoolVar(&cfg.Verbose, "v", false, "workers log warnings to their log files; print the timeline")
	fs.BoolVar(&cfg.Keep, "keep", false, "keep the run directory (journals, logs), topics and groups")
	fs.StringVar(&cfg.Brokers, "brokers", cfg.Brokers, "Kafka bootstrap `address` for the producer and lag checks (env IDEMQ_KAFKA_BROKERS)")
	fs.StringVar(&cfg.ChaosTarget, "kafka-chaos-listener", cfg.ChaosTarget, "the broker's CHAOS listener (env IDEMQ_KAFKA_CHAOS_LISTENER)")
	fs.StringVar(&cfg.ChaosProxy, "kafka-chaos-proxy", cfg.ChaosProxy, "the CHAOS listener's advertised `address`, where the Kafka proxy listens (env IDEMQ_KAFKA_CHAOS_PROXY)")
	fs.StringVar(&cfg.Store, "store", cfg.Store, "`store` of the consumers: redis (the guard on Redis, effects journaled) or postgres "+
		"(pgstore: each effect a row written in the handler's transaction, the verdict read from the database)")
	fs.StringVar(&cfg.PGBin, "postgres-bin", cfg.PGBin, "`directory` of PostgreSQL's initdb and postgres, for -store postgres")
	fs.StringVar(&cfg.RedisServer, "redis-server", cfg.RedisServer, "the redis-server `binary` the run starts (and restarts) for the guard")
	fs.StringVar(&cfg.Dir, "dir", "", "run `directory` (default: a new temporary directory, removed unless -keep or a failure)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("chaos: unexpected arguments %q", fs.Args())
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1 + time.Now().UnixNano()%999_999
	}
	return cfg, cfg.validate()
}

const shortDescription = "20,000 + 4,000 + 4,000 messages over 65s, 9 faults (10 with -store postgres), under 2 minutes"

func usage(fs *flag.FlagSet) {
	fmt.Fprintf(fs.Output(), `Usage: chaos [flags]

A bounded fault run against the real services of 'make services': Kafka
adapter (kafka-go) consumer processes in one group, a pair of Watermill
routers, and a pair of franz-go adapter consumers in a group of their own,
with their guard on a redis-server of the run's own (AOF, everysec). While
the producer publishes, the run SIGKILLs and restarts consumers, stops some
gracefully, restarts Redis, pauses its writes, and adds latency, dropped
connections and freezes on the Redis and Kafka links (a fault proxy). Then it waits for lag
0 and counts, from the handlers' journals, every key's effects.

With -store postgres the consumers keep their keys in a PostgreSQL of the
run's own (pgstore) and each handler writes its effect as a row in its
transaction; the faults are SIGKILLs, SIGTERMs, terminated backends,
PostgreSQL restarts (immediate stop), lost COMMIT answers, freezes and
cuts of the PostgreSQL and Kafka links, and Kafka latency. The verdict is read from the effects
table: no key without a row, none with two.

Exit status 1 on a lost message, a double effect no fault explains, or
doubles over the bound (with -store postgres: any double); 2 for bad flags.

Flags:
`)
	fs.PrintDefaults()
}

// kindNames lists the -faults names.
func kindNames() string {
	var names []string
	for k := range faultNames {
		names = append(names, strings.ReplaceAll(faultKind(k).String(), " ", "-"))
	}
	return strings.Join(names, ", ")
}

func parseKinds(v string) ([]faultKind, error) {
	var kinds []faultKind
	for _, name := range strings.Split(v, ",") {
		i := slices.IndexFunc(faultNames[:], func(n string) bool {
			return strings.EqualFold(strings.ReplaceAll(n, " ", "-"), strings.TrimSpace(name))
		})
		if i < 0 {
			return nil, fmt.Errorf("unknown fault %q (want %s)", name, kindNames())
		}
		kinds = append(kinds, faultKind(i))
	}
	return kinds, nil
}

func (c config) validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf("chaos: "+format, args...))
		}
	}
	check(c.Messages >= 100, "-messages %d: want at least 100", c.Messages)
	check(c.Routers == 0 || c.WMMessages >= 100, "-watermill-messages %d: want at least 100", c.WMMessages)
	check(c.Franz == 0 || c.FZMessages >= 100, "-franz-messages %d: want at least 100", c.FZMessages)
	check(c.Duplicates >= 0 && c.Duplicates <= 0.5, "-duplicates %v: want 0 to 0.5", c.Duplicates)
	check(c.Consumers >= 3, "-consumers %d: want at least 3", c.Consumers)
	check(c.Routers == 0 || c.Routers >= 2, "-routers %d: want 0 or at least 2", c.Routers)
	check(c.Franz == 0 || c.Franz >= 2 && c.Franz <= c.FZParts, "-franz %d: want 0, or 2 to %d (its topic's partitions)", c.Franz, c.FZParts)
	check(c.Partitions >= c.Consumers, "-partitions %d: want at least one per consumer", c.Partitions)
	check(c.Duration >= 20*time.Second, "-duration %v: want at least 20s", c.Duration)
	check(c.Density >= 0 && c.Density <= 30, "-density %v: want 0 to 30", c.Density)
	check(c.Drain >= 10*time.Second, "-drain %v: want at least 10s", c.Drain)
	check(c.Work >= 0 && c.Work <= time.Second, "-work %v: want 0 to 1s", c.Work)
	check(c.Store == storeRedis || c.Store == storePostgres, "-store %q: want redis or postgres", c.Store)
	for _, k := range c.Faults {
		check(k.fits(c.Store), "-faults %s: not a fault of -store %s", k, c.Store)
	}
	return errors.Join(errs...)
}
