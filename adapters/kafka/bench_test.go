package idemqkafka_test

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/nullstore"
	"github.com/idemq/idemq/internal/testenv"
)

const (
	benchMessages   = 100_000
	benchPartitions = 8
	benchValueSize  = 1 << 10
)

// BenchmarkThroughput consumes 100,000 messages of 1 KiB on 8 partitions in
// one run, from the first join to the last final outcome, with a fresh group
// (and fresh Redis keys) per iteration:
//
//	Raw                 a plain kafka-go loop with the API the consumer uses:
//	                    ConsumerGroup, Generation.Start, a partition Reader per
//	                    partition, Generation.CommitOffsets every 1,000 messages
//	                    of a partition, from one committer goroutine
//	Consumer            this consumer, no-op handler, fresh keys, claim mode
//	ConsumerDuplicates  the same, with 20% of the messages repeating an earlier key
//	ConsumerNullStore   Consumer on a store that does nothing: the adapter's ceiling
//
// Run it without the race detector:
//
//	go test -run '^$' -bench Throughput -benchtime 1x -count 3 ./adapters/kafka
func BenchmarkThroughput(b *testing.B) {
	k := testenv.Kafka(b)
	srv := testenv.Redis(b)
	fresh := benchTopic(b, k, 0)
	dups := benchTopic(b, k, 0.2)
	b.Run("Raw", func(b *testing.B) { benchRuns(b, func(b *testing.B) time.Duration { return rawRun(b, k, fresh) }) })
	b.Run("Consumer", func(b *testing.B) {
		benchRuns(b, func(b *testing.B) time.Duration { return consumerRun(b, k, &srv, fresh) })
	})
	b.Run("ConsumerDuplicates", func(b *testing.B) {
		benchRuns(b, func(b *testing.B) time.Duration { return consumerRun(b, k, &srv, dups) })
	})
	b.Run("ConsumerNullStore", func(b *testing.B) { // the adapter's own ceiling: a store that does nothing
		benchRuns(b, func(b *testing.B) time.Duration { return consumerRun(b, k, nil, fresh) })
	})
	b.Run("ConsumerMemoryStore", func(b *testing.B) {
		benchRuns(b, func(b *testing.B) time.Duration { return consumerRunOn(b, k, dedupe.NewMemoryStore(), fresh) })
	})
}

// benchRuns runs b.N consumptions and reports messages per second.
func benchRuns(b *testing.B, run func(*testing.B) time.Duration) {
	var total time.Duration
	for range b.N {
		total += run(b)
	}
	b.ReportMetric(float64(benchMessages*b.N)/total.Seconds(), "msgs/s")
	b.ReportMetric(0, "ns/op")
}

// benchTopic creates a topic with the benchmark's messages; dupShare of
// them repeat the idempotency key of an earlier message.
func benchTopic(b *testing.B, k testenv.KafkaBroker, dupShare float64) string {
	b.Helper()
	topic := k.Topic(b, benchPartitions)
	w := k.Writer(b, topic)
	w.Balancer = &kafkago.RoundRobin{}
	w.BatchSize = 1000 // BatchBytes stays under the broker's message.max.bytes
	value := make([]byte, benchValueSize)
	r := rand.New(rand.NewPCG(3, 4))
	msgs := make([]kafkago.Message, 0, 10_000)
	ctx := context.Background()
	for i := range benchMessages {
		k := i
		if i > 0 && r.Float64() < dupShare {
			k = r.IntN(i)
		}
		msgs = append(msgs, kafkago.Message{Value: value, Headers: []kafkago.Header{{Key: "Idempotency-Key", Value: []byte("bench-" + strconv.Itoa(k))}}})
		if len(msgs) == cap(msgs) {
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				b.Fatalf("producing: %.300v", err)
			}
			msgs = msgs[:0]
		}
	}
	return topic
}

// consumerRun consumes the topic with a Consumer and a no-op handler, on
// Redis, or on a nullstore.Store when srv is nil. It reports the Redis server's
// CPU time per message.
func consumerRun(b *testing.B, k testenv.KafkaBroker, srv *testenv.RedisServer, topic string) time.Duration {
	b.Helper()
	var store dedupe.Store = nullstore.Store{}
	if srv != nil {
		rs, err := redisstore.New(srv.Client, redisstore.WithPrefix(srv.Prefix+testenv.Name(b)+":"))
		if err != nil {
			b.Fatal(err)
		}
		store = rs
		cpu := redisCPU(b, srv)
		defer func() { b.ReportMetric((redisCPU(b, srv)-cpu)*1e6/benchMessages, "redis-cpu-µs/msg") }()
	}
	defer store.Close()
	return consumerRunOn(b, k, store, topic)
}

// consumerRunOn consumes the topic with a Consumer on store.
func consumerRunOn(b *testing.B, k testenv.KafkaBroker, store dedupe.Store, topic string) time.Duration {
	b.Helper()
	var finished atomic.Int64
	done := make(chan struct{})
	count := func() {
		if finished.Add(1) == benchMessages {
			close(done)
		}
	}
	c, err := idemqkafka.NewConsumer(idemqkafka.Config[struct{}]{
		Reader: k.ReaderConfig(topic, k.Group(b)),
		Store:  store,
		Handle: func(ctx context.Context, m kafkago.Message, end dedupe.End[struct{}]) error {
			end(struct{}{})
			count()
			return nil
		},
		OnDuplicate: func(context.Context, kafkago.Message, struct{}) error { count(); return nil },
	})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	start := time.Now()
	errc := make(chan error, 1)
	go func() { errc <- c.Run(ctx) }()
	select {
	case <-done:
	case err := <-errc:
		b.Fatalf("Run = %v", err)
	}
	elapsed := time.Since(start)
	cancel()
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	s := c.Stats()
	b.ReportMetric(float64(s.GuardRoundTrips)/benchMessages*1000, "trips/1k-msgs")
	return elapsed
}

// redisCPU returns the Redis server's CPU time so far, in seconds.
func redisCPU(b *testing.B, srv *testenv.RedisServer) float64 {
	info, err := srv.Client.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\r\n") {
		name, v, _ := strings.Cut(line, ":")
		if name == "used_cpu_user" || name == "used_cpu_sys" {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return total
}

// rawRun consumes the topic with kafka-go alone, committing every 1,000
// messages per partition from one goroutine.
func rawRun(b *testing.B, k testenv.KafkaBroker, topic string) time.Duration {
	b.Helper()
	rc := k.ReaderConfig(topic, k.Group(b))
	cg, err := kafkago.NewConsumerGroup(kafkago.ConsumerGroupConfig{
		ID: rc.GroupID, Brokers: rc.Brokers, Topics: []string{topic},
		HeartbeatInterval: rc.HeartbeatInterval, SessionTimeout: rc.SessionTimeout,
		RebalanceTimeout: rc.RebalanceTimeout, JoinGroupBackoff: rc.JoinGroupBackoff,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer cg.Close()
	start := time.Now()
	gen, err := cg.Next(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	var fetched atomic.Int64
	done := make(chan struct{})
	var once sync.Once
	// One goroutine commits, as the consumer does: partitions committing at
	// once make kafka-go's Conn spin on read deadlines for their responses.
	offsets := make(chan map[int]int64, 2*benchPartitions)
	gen.Start(func(ctx context.Context) {
		for {
			select {
			case o := <-offsets:
				_ = gen.CommitOffsets(map[string]map[int]int64{topic: o})
			case <-ctx.Done():
				return
			}
		}
	})
	for _, a := range gen.Assignments[topic] {
		gen.Start(func(ctx context.Context) {
			r := kafkago.NewReader(kafkago.ReaderConfig{Brokers: rc.Brokers, Topic: topic, Partition: a.ID,
				MinBytes: rc.MinBytes, MaxBytes: rc.MaxBytes, MaxWait: rc.MaxWait, ReadLagInterval: -1})
			defer r.Close()
			_ = r.SetOffset(a.Offset)
			for n := 0; ; n++ {
				m, err := r.FetchMessage(ctx)
				if err != nil {
					return
				}
				if n%1000 == 999 {
					select {
					case offsets <- map[int]int64{a.ID: m.Offset + 1}:
					case <-ctx.Done():
						return
					}
				}
				if fetched.Add(1) == benchMessages {
					once.Do(func() { close(done) })
				}
			}
		})
	}
	<-done
	return time.Since(start)
}
