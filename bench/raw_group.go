package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// commitEvery is how often (in messages per partition, or records for
// franz-go) the raw consumers commit, as the idemq consumer's default
// CommitEvery does.
const commitEvery = 1000

// rawGroupRun consumes the fresh topic with kafka-go's ConsumerGroup API
// alone, as the idemq consumer uses it (and as rawRun of
// adapters/kafka/bench_test.go does): one generation, a partition Reader per
// assignment inside Generation.Start, the offset of every 1,000th message of
// a partition committed by a committer of the generation. Timed from before
// the join to the last message, and to the first; the round then waits for
// the queued commits.
func rawGroupRun(ctx context.Context, env *services, rr rowRound) (timed, error) {
	return groupRun(ctx, env, rr, env.kafka.fresh, nil)
}

// groupRun is rawGroupRun on topic t, with handle (if not nil) called for
// each message before it counts; an error of handle fails the round.
func groupRun(ctx context.Context, env *services, rr rowRound, t topic, handle messageFunc) (timed, error) {
	k := env.kafka
	topic := t.name
	rc := k.readerConfig(topic, k.group(rr.row, rr.round))
	cg, err := kafkago.NewConsumerGroup(kafkago.ConsumerGroupConfig{
		ID: rc.GroupID, Brokers: rc.Brokers, Topics: []string{topic},
		HeartbeatInterval: rc.HeartbeatInterval, SessionTimeout: rc.SessionTimeout,
		RebalanceTimeout: rc.RebalanceTimeout, JoinGroupBackoff: rc.JoinGroupBackoff,
	})
	if err != nil {
		return timed{}, err
	}
	defer cg.Close()
	start := time.Now()
	gen, err := cg.Next(ctx)
	for isTemporary(err) { // a broker just started: its group coordinator is not ready yet
		start = time.Now() // the group retries by itself; the timing starts with the join that works
		gen, err = cg.Next(ctx)
	}
	if err != nil {
		return timed{}, fmt.Errorf("joining: %w", err)
	}
	c := &rawCounter{want: int64(t.messages), done: make(chan struct{}), handle: handle, start: start}
	assigned := gen.Assignments[topic]
	cm := newCommitter(gen, topic, len(assigned))
	gen.Start(func(ctx context.Context) { cm.run(ctx, c.fail) })
	for _, a := range assigned {
		gen.Start(func(ctx context.Context) { c.consumePartition(ctx, cm, rc, a) })
	}
	select {
	case <-c.done:
		elapsed := time.Since(start)
		return timed{elapsed, t.messages, c.first.after()}, errors.Join(c.err(), cm.wait(ctx))
	case <-ctx.Done():
		return timed{}, fmt.Errorf("%d of %d messages: %w", c.n.Load(), c.want, context.Cause(ctx))
	}
}

// messageFunc is the work a raw consumer does per message.
type messageFunc func(ctx context.Context, m kafkago.Message) error

// rawCounter counts the messages of all partitions and closes done at want,
// or at the first error.
type rawCounter struct {
	n      atomic.Int64
	want   int64
	done   chan struct{}
	once   sync.Once
	handle messageFunc // nil: none
	start  time.Time
	first  firstMessage
	mu     sync.Mutex
	errors []error
}

func (c *rawCounter) add() {
	n := c.n.Add(1)
	if n == 1 {
		c.first.mark(c.start)
	}
	if n == c.want {
		c.once.Do(func() { close(c.done) })
	}
}

func (c *rawCounter) fail(err error) {
	c.mu.Lock()
	c.errors = append(c.errors, err)
	c.mu.Unlock()
	c.once.Do(func() { close(c.done) })
}

func (c *rawCounter) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return errors.Join(c.errors...)
}

// consumePartition reads one assigned partition until the generation ends.
func (c *rawCounter) consumePartition(ctx context.Context, cm *committer, rc kafkago.ReaderConfig, a kafkago.PartitionAssignment) {
	r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: rc.Brokers, Topic: rc.Topic, Partition: a.ID,
		MinBytes: rc.MinBytes, MaxBytes: rc.MaxBytes, MaxWait: rc.MaxWait, ReadLagInterval: -1})
	defer r.Close()
	if err := r.SetOffset(a.Offset); err != nil {
		c.fail(err)
		return
	}
	for n := 1; ; n++ {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			return // the generation ended
		}
		if c.handle != nil {
			if err := c.handle(ctx, m); err != nil {
				c.fail(fmt.Errorf("partition %d offset %d: %w", a.ID, m.Offset, err))
				return
			}
		}
		if n%commitEvery == 0 {
			cm.queue(ctx, a.ID, m.Offset+1)
		}
		c.add()
	}
}

// isTemporary reports a Kafka error that kafka-go retries by itself, such
// as a group coordinator that is not available yet.
func isTemporary(err error) bool {
	var kerr kafkago.Error
	return errors.As(err, &kerr) && kerr.Temporary()
}
