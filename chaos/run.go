package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/idemq/idemq/internal/faultproxy"
	"github.com/idemq/idemq/internal/kafkaadmin"
)

// run is one chaos run: its services, processes and what happened.
type run struct {
	cfg   config
	out   io.Writer
	outMu sync.Mutex
	id    string
	dir   string

	redis      *redisServer      // -store redis
	redisProxy *faultproxy.Proxy // -store redis
	pg         *pgServer         // -store postgres
	pgProxy    *faultproxy.Proxy // -store postgres
	kafkaProxy *faultproxy.Proxy
	admin      *admin
	fleet      *fleet
	inj        *injector

	topics  []*topic // the Kafka adapter's, then the Watermill routers' and the franz-go adapter's (if any)
	dlt     string
	faults  []fault
	done    []injected
	crashes int

	began    time.Time // setup done, the producer starts
	produced time.Time // the producer's last message was acknowledged
	drained  time.Time // lag 0 on every partition of every group
	closers  []func()

	effectRows map[string][]effectRow // -store postgres: the effects table, by key
}

// Key prefixes of the two workloads: keys are unique across the run.
const (
	kaKeyPrefix = "ka-"
	wmKeyPrefix = "wm-"
	fzKeyPrefix = "fz-"
)

// topic is one consumer group's topic and workload.
type topic struct {
	title      string // the report's column
	role       string
	name       string
	group      string
	partitions int
	msgs       []message
	keys       map[string]struct{}
	sent       atomic.Int64
	lag        map[int]int64 // at the end
}

// execute runs the chaos run cfg describes and returns its report.
func execute(ctx context.Context, cfg config, out io.Writer) (rep *report, err error) {
	r := &run{cfg: cfg, out: out, id: runID()}
	defer func() { r.teardown(rep, err) }()
	if err := r.setup(ctx); err != nil {
		return nil, err
	}
	if err := r.startFleet(ctx); err != nil {
		return nil, err
	}
	if err := r.churn(ctx); err != nil {
		return nil, err
	}
	r.drain(ctx)
	for _, err := range r.fleet.stopAll(termWait) {
		if err != nil {
			r.say("%v", err)
		}
	}
	return r.analyze(ctx)
}

// prefix is the guard's key prefix in the run's Redis.
func (r *run) prefix() string { return "chaos:" + r.id + ":" }

func runID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// say prints a progress line, stamped with the time since the producer
// started (or since setup began, before).
func (r *run) say(format string, args ...any) {
	r.outMu.Lock()
	defer r.outMu.Unlock()
	t := "setup"
	if !r.began.IsZero() {
		t = fmt.Sprintf("%6.1fs", time.Since(r.began).Seconds())
	}
	fmt.Fprintf(r.out, "[%s] %s\n", t, fmt.Sprintf(format, args...))
}

func (r *run) setup(ctx context.Context) error {
	fmt.Fprintf(r.out, "chaos: run %s, seed %d (repeat with -seed %d)\n", r.id, r.cfg.Seed, r.cfg.Seed)
	if err := r.makeDir(); err != nil {
		return err
	}
	if r.cfg.postgres() {
		if err := r.startPG(ctx); err != nil {
			return err
		}
	} else if err := r.startRedis(ctx); err != nil {
		return err
	}
	if err := r.openKafkaProxy(ctx); err != nil {
		return err
	}
	var err error
	if r.admin, err = newAdmin(r.cfg.Brokers); err != nil {
		return err
	}
	r.closers = append(r.closers, r.admin.close)
	if err := r.createTopics(ctx); err != nil {
		return err
	}
	if r.cfg.postgres() {
		r.say("postgres %s (%s) behind proxy %s; Kafka %s, consumers through proxy %s -> %s",
			r.pg.addr(), r.pg.dir, r.pgProxy.Addr(), r.cfg.Brokers, r.kafkaProxy.Addr(), r.cfg.ChaosTarget)
		return nil
	}
	r.say("redis-server %s (AOF everysec, %s) behind proxy %s; Kafka %s, consumers through proxy %s -> %s",
		r.redis.addr(), r.redis.dir, r.redisProxy.Addr(), r.cfg.Brokers, r.kafkaProxy.Addr(), r.cfg.ChaosTarget)
	return nil
}

func (r *run) startRedis(ctx context.Context) error {
	var err error
	if r.redis, err = startRedisServer(ctx, r.cfg.RedisServer, filepath.Join(r.dir, "redis")); err != nil {
		return err
	}
	r.closers = append(r.closers, r.redis.stop)
	if r.redisProxy, err = faultproxy.Listen("127.0.0.1:0", r.redis.addr()); err != nil {
		return err
	}
	r.closers = append(r.closers, func() { _ = r.redisProxy.Close() })
	return nil
}

// startPG starts the run's PostgreSQL (-store postgres), creates its
// tables and opens the proxy the workers reach it through.
func (r *run) startPG(ctx context.Context) error {
	var err error
	if r.pg, err = startPGServer(ctx, r.cfg.PGBin, filepath.Join(r.dir, "postgres")); err != nil {
		return err
	}
	r.closers = append(r.closers, r.pg.stop)
	if err := migratePG(ctx, pgURL(r.pg.addr())); err != nil {
		return err
	}
	if r.pgProxy, err = faultproxy.Listen("127.0.0.1:0", r.pg.addr()); err != nil {
		return err
	}
	r.closers = append(r.closers, func() { _ = r.pgProxy.Close() })
	return nil
}

func (r *run) makeDir() error {
	r.dir = r.cfg.Dir
	if r.dir == "" {
		d, err := os.MkdirTemp("", "idemq-chaos-"+r.id+"-")
		if err != nil {
			return err
		}
		r.dir = d
	}
	return os.MkdirAll(r.dir, 0o755)
}

// openKafkaProxy listens at the CHAOS listener's advertised address and
// checks that the broker advertises it: otherwise the consumers would
// bootstrap through the proxy and then talk to the broker directly.
func (r *run) openKafkaProxy(ctx context.Context) error {
	var err error
	if r.kafkaProxy, err = faultproxy.Listen(r.cfg.ChaosProxy, r.cfg.ChaosTarget); err != nil {
		return fmt.Errorf("%w (is another chaos run using it?)", err)
	}
	r.closers = append(r.closers, func() { _ = r.kafkaProxy.Close() })
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	addrs, err := advertised(ctx, r.kafkaProxy.Addr())
	if err != nil {
		return fmt.Errorf("chaos: Kafka's CHAOS listener %s does not answer through the proxy (%w): start Kafka with this "+
			"branch's scripts/services.sh (it restarts a broker that lacks the listener)", r.cfg.ChaosTarget, err)
	}
	if len(addrs) != 1 || addrs[0] != r.kafkaProxy.Addr() {
		return fmt.Errorf("chaos: the broker's CHAOS listener advertises %v, want [%s]: start Kafka with this branch's scripts/services.sh",
			addrs, r.kafkaProxy.Addr())
	}
	return nil
}

func (r *run) createTopics(ctx context.Context) error {
	base := "chaos-" + r.id
	seed := uint64(r.cfg.Seed)
	ka := &topic{title: "Kafka adapter", role: roleKafka, name: base + "-kafka", group: base + "-kafka", partitions: r.cfg.Partitions,
		msgs: workload(mrand.New(mrand.NewPCG(seed, 2)), kaKeyPrefix, r.cfg.Messages, r.cfg.Duplicates, r.cfg.Partitions)}
	r.topics = append(r.topics, ka)
	if r.cfg.Routers > 0 {
		r.topics = append(r.topics, &topic{title: "Watermill", role: roleWatermill, name: base + "-watermill", group: base + "-watermill",
			partitions: r.cfg.WMParts, msgs: workload(mrand.New(mrand.NewPCG(seed, 3)), wmKeyPrefix, r.cfg.WMMessages, r.cfg.Duplicates, r.cfg.WMParts)})
	}
	if r.cfg.Franz > 0 { // a group of its own: cooperative franz-go members and eager kafka-go ones do not mix
		r.topics = append(r.topics, &topic{title: "franz-go adapter", role: roleFranz, name: base + "-franz", group: base + "-franz",
			partitions: r.cfg.FZParts, msgs: workload(mrand.New(mrand.NewPCG(seed, 4)), fzKeyPrefix, r.cfg.FZMessages, r.cfg.Duplicates, r.cfg.FZParts)})
	}
	r.dlt = base + "-dlt"
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, t := range r.topics {
		t.keys = keysOf(t.msgs)
		if err := kafkaadmin.CreateTopic(ctx, r.admin.client, t.name, t.partitions); err != nil {
			return err
		}
	}
	return kafkaadmin.CreateTopic(ctx, r.admin.client, r.dlt, 1)
}

// startFleet starts every worker and waits until every group is stable
// with all their members.
func (r *run) startFleet(ctx context.Context) error {
	exe := r.cfg.Worker
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return err
		}
	}
	r.fleet = newFleet(exe, r.dir)
	r.inj = &injector{fleet: r.fleet, redis: r.redis, redisProxy: r.redisProxy, kafkaProxy: r.kafkaProxy, pg: r.pg, pgProxy: r.pgProxy}
	counts := map[string]int{roleKafka: r.cfg.Consumers, roleWatermill: r.cfg.Routers, roleFranz: r.cfg.Franz}
	for _, t := range r.topics {
		for i := 1; i <= counts[t.role]; i++ {
			name := fmt.Sprintf("%c%d", t.role[0], i)
			w := workerConfig{Role: t.role, Store: r.cfg.Store, Brokers: r.kafkaProxy.Addr(),
				Topic: t.name, Group: t.group, DLT: r.dlt, Prefix: r.prefix(), Work: r.cfg.Work, Verbose: r.cfg.Verbose}
			if r.cfg.postgres() {
				w.Postgres = pgURL(r.pgProxy.Addr())
			} else {
				w.Redis, w.Effects = r.redisProxy.Addr(), r.redis.addr()
			}
			r.fleet.add(name, w)
			if _, err := r.fleet.start(name); err != nil {
				return err
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for _, t := range r.topics {
		err := poll(ctx, 100*time.Millisecond, func() (bool, error) { return r.admin.stable(ctx, t.group, counts[t.role]) })
		if err != nil {
			return fmt.Errorf("chaos: group %s did not form with %d members (worker logs in %s): %w", t.group, counts[t.role], r.dir, err)
		}
	}
	return nil
}

// churn publishes the workloads while the schedule's faults happen, and
// restarts any worker that exits on its own.
func (r *run) churn(ctx context.Context) error {
	r.faults = schedule(mrand.New(mrand.NewPCG(uint64(r.cfg.Seed), 1)), r.cfg, r.fleet.names(roleKafka), r.fleet.names(roleWatermill),
		r.fleet.names(roleFranz))
	r.began = time.Now()
	r.say("producing %s over %v; %d faults scheduled", r.volume(), r.cfg.Duration, len(r.faults))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errs := make(chan error, len(r.topics))
	for _, t := range r.topics {
		b := bursts(r.faults, t.role)
		go func() { errs <- produce(ctx, r.cfg.Brokers, t.name, t.msgs, b, r.cfg.Duration, &t.sent) }()
	}
	faultsDone := make(chan struct{})
	go func() { defer close(faultsDone); r.runSchedule(ctx) }()
	stopWatch := r.watch(ctx)
	defer stopWatch()
	var err error
	for range r.topics {
		err = errors.Join(err, <-errs)
	}
	r.produced = time.Now()
	if err != nil {
		cancel()
	}
	<-faultsDone
	return err
}

func (r *run) volume() string {
	s := ""
	for i, t := range r.topics {
		if i > 0 {
			s += " + "
		}
		s += fmt.Sprintf("%d (%s)", len(t.msgs), t.title)
	}
	return s
}

// runSchedule injects each fault at its time.
func (r *run) runSchedule(ctx context.Context) {
	for _, f := range r.faults {
		sleep(ctx, time.Until(r.began.Add(f.at)))
		if ctx.Err() != nil {
			return
		}
		r.say("%-13s %s ...", f.kind, f.victim)
		done := r.inj.inject(ctx, f)
		r.done = append(r.done, done)
		if done.err != nil {
			r.say("%-13s %s: %v", f.kind, done.describe(), done.err)
			continue
		}
		r.say("%-13s %s", f.kind, done.describe())
	}
}

// watch prints progress every 10s and restarts a worker that exited
// without the run's signal (a crash: counted, and the run fails).
func (r *run) watch(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		restarted := map[*proc]bool{}
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		for i := 1; ; i++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			for _, p := range r.fleet.unexpected() {
				if !restarted[p] && r.fleet.current(p.member) == nil {
					restarted[p] = true
					r.crashes++
					r.say("worker %s exited on its own (%v; log %s): restarting it", p.inst, p.exitErr, p.log)
					_, _ = r.fleet.start(p.member)
				}
			}
			if i%20 == 0 {
				r.say("%s", r.progress(ctx))
			}
		}
	}()
	return func() { cancel(); <-ended }
}

func (r *run) progress(ctx context.Context) string {
	s := "produced"
	for _, t := range r.topics {
		s += fmt.Sprintf(" %d/%d", t.sent.Load(), len(t.msgs))
	}
	s += "; lag"
	for _, t := range r.topics {
		s += " " + lagString(r.totalLag(ctx, t))
	}
	return s
}

func (r *run) totalLag(ctx context.Context, t *topic) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	lag, err := kafkaadmin.Lag(ctx, r.admin.client, t.name, t.group, t.partitions)
	var sum int64
	for _, n := range lag {
		sum += n
	}
	return sum, err
}

func lagString(n int64, err error) string {
	if err != nil {
		return "?"
	}
	return itoa(n)
}

// drain waits, at most cfg.Drain, for lag 0 on every partition of every
// group, and records each partition's lag.
func (r *run) drain(ctx context.Context) {
	r.say("producer done; waiting up to %v for lag 0", r.cfg.Drain)
	stopWatch := r.watch(ctx)
	defer stopWatch()
	dctx, cancel := context.WithTimeout(ctx, r.cfg.Drain)
	defer cancel()
	_ = poll(dctx, 250*time.Millisecond, func() (bool, error) {
		for _, t := range r.topics {
			if n, err := r.totalLag(dctx, t); err != nil || n != 0 {
				return false, err
			}
		}
		return true, nil
	})
	if dctx.Err() == nil {
		r.drained = time.Now()
	}
	for _, t := range r.topics {
		lctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		t.lag, _ = kafkaadmin.Lag(lctx, r.admin.client, t.name, t.group, t.partitions)
		cancel()
	}
	r.say("lag %s; stopping the workers", r.progress(ctx))
}

// teardown stops what setup started; it removes the topics, groups and
// the run directory unless -keep, or unless the run failed (then it says
// where the journals and logs are).
func (r *run) teardown(rep *report, err error) {
	if r.fleet != nil {
		r.fleet.stopAll(killWait)
	}
	for _, c := range slices.Backward(r.closers) {
		c()
	}
	failed := err != nil || rep == nil || !rep.pass()
	if r.admin != nil && !r.cfg.Keep {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var topics, groups []string
		for _, t := range r.topics {
			topics, groups = append(topics, t.name), append(groups, t.group)
		}
		_ = kafkaadmin.Remove(ctx, r.admin.client, append(topics, r.dlt), groups)
	}
	if r.dir == "" {
		return
	}
	if r.cfg.Keep || failed {
		fmt.Fprintf(r.out, "journals, worker logs and %s data kept in %s\n", r.cfg.storeTitle(), r.dir)
		return
	}
	if r.cfg.Dir == "" {
		_ = os.RemoveAll(r.dir)
	}
}
