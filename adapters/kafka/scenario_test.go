package idemqkafka_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/kafkatest"
	"github.com/idemq/idemq/internal/testenv"
)

// TestScenarios runs the scenario table both Kafka adapters pass.
func TestScenarios(t *testing.T) {
	kafkatest.Run(t, &driver{k: testenv.Kafka(t)})
}

// driver is kafkatest's Driver for idemqkafka. Every member it starts
// records its generations and offset commits, and at the end of each
// scenario it checks, per group, that no offset commit of a generation
// completed after a newer generation had started in any member.
type driver struct {
	k      testenv.KafkaBroker
	mu     sync.Mutex
	groups map[string]*generations
}

func (d *driver) Adapter() kafkatest.Adapter {
	return kafkatest.Adapter{
		Name: "idemqkafka", MetricPrefix: "idemq.kafka",
		ErrNoKey: idemqkafka.ErrNoKey, ErrRebalance: idemqkafka.ErrRebalance,
		ErrDrainTimeout: idemqkafka.ErrDrainTimeout, ErrRunning: idemqkafka.ErrRunning,
		MessageError: func(err error) (kafkatest.MessageError, bool) {
			var me *idemqkafka.MessageError
			if !errors.As(err, &me) {
				return kafkatest.MessageError{}, false
			}
			return kafkatest.MessageError{Topic: me.Topic, Partition: me.Partition, Offset: me.Offset, Key: me.Key, Attempts: me.Attempts}, true
		},
	}
}

func (d *driver) NewConsumer(t *testing.T, cfg kafkatest.Config) (kafkatest.Consumer, error) {
	c, err := idemqkafka.NewConsumer(d.config(t, cfg))
	if c == nil {
		return nil, err
	}
	m := &scenarioConsumer{c: c}
	gens := d.generations(t, cfg.Group)
	idemqkafka.SetHooks(c, func(g *kafkago.Generation) {
		gens.started(g)
		m.assigned(g)
	}, gens.committed)
	return m, err
}

func (d *driver) NewProcessor(t *testing.T, cfg kafkatest.Config) (kafkatest.Processor, error) {
	p, err := idemqkafka.NewProcessor(d.config(t, cfg))
	if p == nil {
		return nil, err
	}
	return scenarioProcessor{p}, err
}

// scenarioProcessor is a Processor on kafka-go messages.
type scenarioProcessor struct{ p *idemqkafka.Processor[string] }

func (s scenarioProcessor) Process(ctx context.Context, m kafkatest.Message) (consumer.Outcome, error) {
	km := kafkago.Message{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: m.Value}
	for _, h := range m.Headers {
		km.Headers = append(km.Headers, kafkago.Header{Key: h.Key, Value: h.Value})
	}
	return s.p.Process(ctx, km)
}

func (s scenarioProcessor) Stats() kafkatest.Stats { return stats(s.p.Stats(), 0) }
func (s scenarioProcessor) Close() error           { return s.p.Close() }

// config translates cfg, on the test broker's fast ReaderConfig.
func (d *driver) config(t *testing.T, cfg kafkatest.Config) idemqkafka.Config[string] {
	rc := d.k.ReaderConfig(cfg.Topic, cfg.Group)
	if cfg.SessionTimeout != 0 {
		rc.SessionTimeout = cfg.SessionTimeout
	}
	c := idemqkafka.Config[string]{
		Reader: rc, Store: cfg.Store, TxStore: cfg.TxStore, Guard: cfg.Guard, InvalidKey: cfg.InvalidKey,
		Attempts: cfg.Attempts, Backoff: cfg.Backoff, Ordering: cfg.Ordering, MaxInFlight: cfg.MaxInFlight,
		BatchSize: cfg.BatchSize, CommitEvery: cfg.CommitEvery, CommitInterval: cfg.CommitInterval,
		DrainTimeout: cfg.DrainTimeout, Logger: cfg.Logger, MeterProvider: cfg.MeterProvider,
	}
	if cfg.KeyHeader != "" {
		c.KeyFunc = idemqkafka.HeaderKey(cfg.KeyHeader)
	}
	if cfg.Fingerprint {
		c.FingerprintFunc = idemqkafka.PayloadFingerprint
	}
	if h := cfg.Handle; h != nil {
		c.Handle = func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
			return h(ctx, message(m), end)
		}
	}
	if f := cfg.OnDuplicate; f != nil {
		c.OnDuplicate = func(ctx context.Context, m kafkago.Message, winner string) error { return f(ctx, message(m), winner) }
	}
	if cfg.DeadLetterTopic != "" {
		w := d.k.Writer(t, cfg.DeadLetterTopic)
		w.Balancer = &kafkago.LeastBytes{}
		c.DeadLetter = w
	}
	return c
}

// Produce writes msgs with a Writer whose balancer picks each message's
// Partition (carried in WriterData).
func (d *driver) Produce(t *testing.T, topic string, msgs ...kafkatest.Message) {
	t.Helper()
	w := d.k.Writer(t, topic)
	w.Balancer = kafkago.BalancerFunc(func(m kafkago.Message, _ ...int) int { return m.WriterData.(int) })
	out := make([]kafkago.Message, len(msgs))
	for i, m := range msgs {
		out[i] = kafkago.Message{Key: m.Key, Value: m.Value, WriterData: m.Partition}
		for _, h := range m.Headers {
			out[i].Headers = append(out[i].Headers, kafkago.Header{Key: h.Key, Value: h.Value})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := w.WriteMessages(ctx, out...); err != nil {
		t.Fatalf("WriteMessages: %v", err)
	}
}

// Read reads partition 0 of topic with a Reader outside any group.
func (d *driver) Read(t *testing.T, topic string, n int) []kafkatest.Message {
	t.Helper()
	out := make([]kafkatest.Message, 0, n)
	for _, m := range readAll(t, d.k, topic, n) {
		out = append(out, message(m))
	}
	return out
}

func message(m kafkago.Message) kafkatest.Message {
	out := kafkatest.Message{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: m.Key, Value: m.Value}
	for _, h := range m.Headers {
		out.Headers = append(out.Headers, kafkatest.Header{Key: h.Key, Value: h.Value})
	}
	return out
}

// scenarioConsumer is a Consumer and the partitions of its latest generation.
type scenarioConsumer struct {
	c          *idemqkafka.Consumer[string]
	now, total atomic.Int64
}

func (m *scenarioConsumer) Run(ctx context.Context) error { return m.c.Run(ctx) }
func (m *scenarioConsumer) Assigned() int                 { return int(m.now.Load()) }

func (m *scenarioConsumer) Stats() kafkatest.Stats { return stats(m.c.Stats(), m.total.Load()) }

// stats translates s, with assignments counted by the driver.
func stats(s idemqkafka.Stats, assignments int64) kafkatest.Stats {
	return kafkatest.Stats{
		Processed: s.Processed, Duplicates: s.Duplicates, InFlightConflicts: s.InFlightConflicts, Retries: s.Retries,
		DeadLettered: s.DeadLettered, DeadLetterErrors: s.DeadLetterErrors, OffsetCommits: s.OffsetCommits,
		GuardRoundTrips: s.GuardRoundTrips, StoreErrors: s.StoreErrors, Assignments: assignments,
		InFlight: s.InFlight, Own: map[string]int64{"generations": s.Generations},
	}
}

func (m *scenarioConsumer) assigned(g *kafkago.Generation) {
	n := 0
	for _, parts := range g.Assignments {
		n += len(parts)
	}
	m.now.Store(int64(n))
	m.total.Add(int64(n))
}

// generations returns the record of group's generations, made at the
// group's first member and checked at the end of t.
func (d *driver) generations(t *testing.T, group string) *generations {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.groups == nil {
		d.groups = map[string]*generations{}
	}
	g := d.groups[group]
	if g == nil {
		g = &generations{start: map[int32]time.Time{}}
		d.groups[group] = g
		t.Cleanup(func() { g.check(t) }) // after the members' stops, registered later
	}
	return g
}

// generations records when each generation started and when each offset
// commit completed, across the members of a group.
type generations struct {
	mu      sync.Mutex
	start   map[int32]time.Time // earliest start of each generation in any member
	commits []commitAt
}

type commitAt struct {
	gen int32
	at  time.Time
}

func (g *generations) started(gen *kafkago.Generation) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.start[gen.ID]; !ok {
		g.start[gen.ID] = time.Now()
	}
}

func (g *generations) committed(gen *kafkago.Generation, _ map[string]map[int]int64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.commits = append(g.commits, commitAt{gen.ID, time.Now()})
}

// check fails for a commit of generation n that completed after a
// generation newer than n started.
func (g *generations) check(t *testing.T) {
	t.Helper()
	g.mu.Lock()
	defer g.mu.Unlock()
	late := 0
	for _, c := range g.commits {
		for id, at := range g.start {
			if id > c.gen && at.Before(c.at) {
				if late++; late <= 5 {
					t.Errorf("a commit of generation %d completed %v after generation %d started", c.gen, c.at.Sub(at), id)
				}
			}
		}
	}
}
