package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"time"
)

// run runs the demo described by cfg, printing progress and the report to
// out, and returns the report.
func run(ctx context.Context, cfg config, out io.Writer) (report, error) {
	if err := cfg.validate(); err != nil {
		return report{}, err
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	e, err := openEnv(ctx, cfg)
	if err != nil {
		return report{}, err
	}
	defer e.close()
	n := newNames(cfg)
	orders := workload(cfg.Messages, cfg.Duplicates, cfg.Partitions)
	phases, err := newPhases(cfg, e, n)
	if err != nil {
		return report{}, err
	}
	if !cfg.Keep {
		defer cleanup(e, n, phases)
	}
	if err := e.createTables(ctx, n.tables); err != nil {
		return report{}, err
	}
	r := report{kafka: e.kafkaDesc, redis: e.redisDesc, postgres: e.pgDesc, effects: n.tables.effects, produced: len(orders),
		uniqueKeys: len(uniqueKeys(orders)), consumers: cfg.Consumers, partitions: cfg.Partitions}
	prog := newProgress(out)
	fmt.Fprintf(out, "idemq demo: %d order messages (%d unique keys, %.0f%% duplicates), %d consumers, run %s\n",
		r.produced, r.uniqueKeys, 100*cfg.Duplicates, cfg.Consumers, n.run)
	for _, ph := range phases {
		res, err := ph.run(ctx, cfg, orders, prog)
		if err != nil {
			return r, err
		}
		r.phases = append(r.phases, res)
	}
	r.elapsed = time.Since(start)
	r.write(out)
	return r, nil
}

// names are the run's Kafka, Redis and PostgreSQL names, unique to the
// run unless the flags chose them.
type names struct {
	run    string // random id
	topic  string // base name; each phase adds .<slug>
	group  string
	ns     string // Redis prefix of all the run's keys
	tables pgTables
}

func newNames(cfg config) names {
	var b [4]byte
	_, _ = rand.Read(b[:])
	n := names{run: hex.EncodeToString(b[:]), topic: cfg.Topic, group: cfg.Group}
	if n.topic == "" {
		n.topic = "idemq-demo-" + n.run
	}
	if n.group == "" {
		n.group = n.topic
	}
	n.ns = cfg.Prefix + n.run + ":"
	n.tables = newPGTables(n.run)
	return n
}

// newPhases returns the plain phase (with -compare) and the guarded ones.
func newPhases(cfg config, e *env, n names) ([]*phase, error) {
	var phases []*phase
	if cfg.Compare {
		phases = append(phases, newPhase(cfg, e, n, "plain kafka-go", "plain", plainFlavour{}))
	}
	switch {
	case cfg.Mode == modeWatermill:
		return append(phases, newPhase(cfg, e, n, "idemq (Watermill)", "watermill", &watermillFlavour{})), nil
	case cfg.Postgres != "":
		return postgresPhases(cfg, e, n, phases)
	}
	return append(phases, newPhase(cfg, e, n, "idemq (Kafka adapter)", "idemq", &idemqFlavour{})), nil
}

func newPhase(cfg config, e *env, n names, title, slug string, f flavour) *phase {
	return &phase{
		title: title, slug: slug, flavour: f, env: e,
		topic: n.topic + "." + slug, group: n.group + "." + slug,
		prefix: n.ns + slug + ":", ledger: redisLedger{client: e.redis, key: n.ns + slug + ":ledger"},
		work: cfg.Work, tracker: newTracker(cfg.Messages, cfg.KillAt), watch: newGroupWatch(),
	}
}

// cleanup removes the run's topics, consumer groups and Redis keys.
func cleanup(e *env, n names, phases []*phase) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var topics, groups []string
	for _, ph := range phases {
		topics, groups = append(topics, ph.topic), append(groups, ph.group)
	}
	e.admin.remove(ctx, topics, groups)
	_ = e.deleteKeys(ctx, n.ns)
	e.dropTables(ctx, n.tables)
}
