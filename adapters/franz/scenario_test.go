package idemqfranz_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	idemqfranz "github.com/idemq/idemq/adapters/franz"
	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/kafkatest"
	"github.com/idemq/idemq/internal/testenv"
)

// TestScenarios runs the scenario table both Kafka adapters pass.
func TestScenarios(t *testing.T) {
	kafkatest.Run(t, driver{k: testenv.Kafka(t)})
}

// driver is kafkatest's Driver for idemqfranz.
type driver struct{ k testenv.KafkaBroker }

func (d driver) Adapter() kafkatest.Adapter {
	return kafkatest.Adapter{
		Name: "idemqfranz", MetricPrefix: "idemq.franz",
		ErrNoKey: idemqfranz.ErrNoKey, ErrRebalance: idemqfranz.ErrRevoked,
		ErrDrainTimeout: idemqfranz.ErrDrainTimeout, ErrRunning: idemqfranz.ErrRunning,
		MessageError: func(err error) (kafkatest.MessageError, bool) {
			var me *idemqfranz.MessageError
			if !errors.As(err, &me) {
				return kafkatest.MessageError{}, false
			}
			return kafkatest.MessageError{Topic: me.Topic, Partition: int(me.Partition), Offset: me.Offset, Key: me.Key, Attempts: me.Attempts}, true
		},
		CooperativeRebalance: true,
	}
}

func (d driver) NewConsumer(t *testing.T, cfg kafkatest.Config) (kafkatest.Consumer, error) {
	c, err := idemqfranz.NewConsumer(d.config(t, cfg))
	if c == nil {
		return nil, err
	}
	return scenarioConsumer{c}, err
}

func (d driver) NewProcessor(t *testing.T, cfg kafkatest.Config) (kafkatest.Processor, error) {
	p, err := idemqfranz.NewProcessor(d.config(t, cfg))
	if p == nil {
		return nil, err
	}
	return scenarioProcessor{p}, err
}

// scenarioProcessor is a Processor on franz-go records.
type scenarioProcessor struct{ p *idemqfranz.Processor[string] }

func (s scenarioProcessor) Process(ctx context.Context, m kafkatest.Message) (consumer.Outcome, error) {
	r := &kgo.Record{Topic: m.Topic, Partition: int32(m.Partition), Offset: m.Offset, Key: m.Key, Value: m.Value}
	for _, h := range m.Headers {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
	}
	return s.p.Process(ctx, r)
}

func (s scenarioProcessor) Stats() kafkatest.Stats { return stats(s.p.Stats()) }
func (s scenarioProcessor) Close() error           { return s.p.Close() }

// config translates cfg, on the fast client options of clientOpts.
func (d driver) config(t *testing.T, cfg kafkatest.Config) idemqfranz.Config[string] {
	var opts []kgo.Opt
	if cfg.SessionTimeout != 0 {
		opts = append(opts, kgo.SessionTimeout(cfg.SessionTimeout))
	}
	c := idemqfranz.Config[string]{
		Group: cfg.Group, Topics: []string{cfg.Topic}, Client: clientOpts(d.k, opts...),
		Store: cfg.Store, TxStore: cfg.TxStore, Guard: cfg.Guard, InvalidKey: cfg.InvalidKey,
		Attempts: cfg.Attempts, Backoff: cfg.Backoff, Ordering: cfg.Ordering, MaxInFlight: cfg.MaxInFlight,
		BatchSize: cfg.BatchSize, CommitEvery: cfg.CommitEvery, CommitInterval: cfg.CommitInterval,
		DrainTimeout: cfg.DrainTimeout, Logger: cfg.Logger, MeterProvider: cfg.MeterProvider,
	}
	if cfg.Topic == "" {
		c.Topics = nil
	}
	if cfg.KeyHeader != "" {
		c.KeyFunc = idemqfranz.HeaderKey(cfg.KeyHeader)
	}
	if cfg.Fingerprint {
		c.FingerprintFunc = idemqfranz.PayloadFingerprint
	}
	if h := cfg.Handle; h != nil {
		c.Handle = func(ctx context.Context, r *kgo.Record, end dedupe.End[string]) error { return h(ctx, message(r), end) }
	}
	if f := cfg.OnDuplicate; f != nil {
		c.OnDuplicate = func(ctx context.Context, r *kgo.Record, winner string) error { return f(ctx, message(r), winner) }
	}
	if cfg.DeadLetterTopic != "" {
		c.DeadLetter, c.DeadLetterTopic = producer(t, d.k), cfg.DeadLetterTopic
	}
	return c
}

func (d driver) Produce(t *testing.T, topic string, msgs ...kafkatest.Message) {
	t.Helper()
	rs := make([]*kgo.Record, len(msgs))
	for i, m := range msgs {
		rs[i] = &kgo.Record{Topic: topic, Partition: int32(m.Partition), Key: m.Key, Value: m.Value}
		for _, h := range m.Headers {
			rs[i].Headers = append(rs[i].Headers, kgo.RecordHeader{Key: h.Key, Value: h.Value})
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := producer(t, d.k).ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("ProduceSync: %v", err)
	}
}

func (d driver) Read(t *testing.T, topic string, n int) []kafkatest.Message {
	t.Helper()
	var out []kafkatest.Message
	for _, r := range read(t, d.k, topic, n) {
		out = append(out, message(r))
	}
	return out
}

func message(r *kgo.Record) kafkatest.Message {
	m := kafkatest.Message{Topic: r.Topic, Partition: int(r.Partition), Offset: r.Offset, Key: r.Key, Value: r.Value}
	for _, h := range r.Headers {
		m.Headers = append(m.Headers, kafkatest.Header{Key: h.Key, Value: h.Value})
	}
	return m
}

// scenarioConsumer is a Consumer; its partitions are those assigned and not yet
// revoked or lost.
type scenarioConsumer struct{ c *idemqfranz.Consumer[string] }

func (m scenarioConsumer) Run(ctx context.Context) error { return m.c.Run(ctx) }

func (m scenarioConsumer) Assigned() int {
	s := m.c.Stats()
	return int(s.PartitionsAssigned - s.PartitionsRevoked - s.PartitionsLost)
}

func (m scenarioConsumer) Stats() kafkatest.Stats { return stats(m.c.Stats()) }

// stats translates s.
func stats(s idemqfranz.Stats) kafkatest.Stats {
	return kafkatest.Stats{
		Processed: s.Processed, Duplicates: s.Duplicates, InFlightConflicts: s.InFlightConflicts, Retries: s.Retries,
		DeadLettered: s.DeadLettered, DeadLetterErrors: s.DeadLetterErrors, OffsetCommits: s.OffsetCommits,
		GuardRoundTrips: s.GuardRoundTrips, StoreErrors: s.StoreErrors, Assignments: s.PartitionsAssigned,
		InFlight: s.InFlight, Own: map[string]int64{
			"partitions_assigned": s.PartitionsAssigned, "partitions_revoked": s.PartitionsRevoked, "partitions_lost": s.PartitionsLost,
		},
	}
}
