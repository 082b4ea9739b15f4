package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/internal/kafkaadmin"
)

// keyHeader carries the idempotency key, the adapter's default.
const keyHeader = "Idempotency-Key"

// dupShare is the share of messages of the duplicates topic that repeat an
// earlier message's key.
const dupShare = 0.2

// kafkaKeysPerPartition is how many Kafka message keys each partition of
// the keyed topic has.
const kafkaKeysPerPartition = 100

// topic is a produced topic and what its keys look like.
type topic struct {
	name       string
	messages   int
	repeats    int // messages whose key an earlier message had
	elsewhere  int // repeats on another partition than the key's first message
	uniqueKeys int
	kafkaKeys  int // distinct Kafka message keys; 0: the messages have none
}

// produceTopics creates and fills the three topics, once for the whole run.
func (k *kafkaCluster) produceTopics(ctx context.Context, o options, log io.Writer) error {
	start := time.Now()
	var err error
	if k.fresh, err = k.produce(ctx, o, topic{name: "fresh", messages: o.messages}, 0); err != nil {
		return err
	}
	if k.dups, err = k.produce(ctx, o, topic{name: "dup20", messages: o.messages}, dupShare); err != nil {
		return err
	}
	keyed := topic{name: "keyed", messages: o.ioMessages, kafkaKeys: o.partitions * kafkaKeysPerPartition}
	if k.keyed, err = k.produce(ctx, o, keyed, 0); err != nil {
		return err
	}
	fmt.Fprintf(log, "bench: produced 3 topics of %d, %d and %d × %d B on %d partitions in %s\n",
		o.messages, o.messages, o.ioMessages, o.valueSize, o.partitions, time.Since(start).Round(time.Millisecond))
	return nil
}

// produce creates the topic t names (its name a suffix of the run's) and
// writes t.messages messages round-robin, a share of them repeating the key
// of a random earlier message (so most repeats land on another partition
// than their key's first message). With t.kafkaKeys, a multiple of the
// partitions, message i has the Kafka key "a<i mod kafkaKeys>": round-robin
// puts every message of a Kafka key on one partition, as a producer that
// hashes keys would.
func (k *kafkaCluster) produce(ctx context.Context, o options, t topic, share float64) (topic, error) {
	t.name = "idemqbench-" + k.runID + "-" + t.name
	if err := k.createTopic(ctx, t.name, o.partitions); err != nil {
		return t, err
	}
	bal := &recordingBalancer{first: map[string]int{}, firstKafkaKey: map[string]int{}}
	transport := &kafkago.Transport{}
	defer transport.CloseIdleConnections()
	w := &kafkago.Writer{Addr: kafkago.TCP(k.brokers...), Topic: t.name, Balancer: bal,
		RequiredAcks: kafkago.RequireAll, BatchSize: 1000, BatchTimeout: time.Millisecond, Transport: transport}
	defer w.Close()
	value := make([]byte, o.valueSize)
	r := rand.New(rand.NewPCG(3, 4))
	keys := make([]string, 0, t.messages)
	msgs := make([]kafkago.Message, 0, 10_000)
	for i := range t.messages {
		key := "k" + strconv.Itoa(i)
		if i > 0 && r.Float64() < share {
			key = keys[r.IntN(i)]
		}
		keys = append(keys, key)
		m := kafkago.Message{Value: value, Headers: []kafkago.Header{{Key: keyHeader, Value: []byte(key)}}}
		if t.kafkaKeys > 0 {
			m.Key = []byte("a" + strconv.Itoa(i%t.kafkaKeys))
		}
		if msgs = append(msgs, m); len(msgs) == cap(msgs) || i == t.messages-1 {
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				return t, fmt.Errorf("producing %s: %.300v", t.name, err)
			}
			msgs = msgs[:0]
		}
	}
	t.repeats, t.elsewhere, t.uniqueKeys = bal.repeats, bal.elsewhere, len(bal.first)
	if bal.kafkaKeysMoved > 0 {
		return t, fmt.Errorf("producing %s: %d messages have a Kafka key on another partition than its first message",
			t.name, bal.kafkaKeysMoved)
	}
	return t, w.Close()
}

// recordingBalancer is round-robin, and counts where repeated keys land,
// and the messages whose Kafka key is on another partition than that Kafka
// key's first message. The Writer calls it once per message, in order, from
// WriteMessages.
type recordingBalancer struct {
	rr             kafkago.RoundRobin
	first          map[string]int // key → partition of its first message
	repeats        int
	elsewhere      int
	firstKafkaKey  map[string]int // Kafka key → partition of its first message
	kafkaKeysMoved int
}

func (b *recordingBalancer) Balance(m kafkago.Message, partitions ...int) int {
	p := b.rr.Balance(m, partitions...)
	key := string(m.Headers[0].Value)
	if f, ok := b.first[key]; !ok {
		b.first[key] = p
	} else if b.repeats++; f != p {
		b.elsewhere++
	}
	if m.Key != nil {
		if f, ok := b.firstKafkaKey[string(m.Key)]; !ok {
			b.firstKafkaKey[string(m.Key)] = p
		} else if f != p {
			b.kafkaKeysMoved++
		}
	}
	return p
}

// createTopic creates a topic, records it for deletion (a topic that was
// never made is harmless to delete) and waits, at most 30s, until every
// partition has a leader.
func (k *kafkaCluster) createTopic(ctx context.Context, name string, partitions int) error {
	k.mu.Lock()
	k.topics = append(k.topics, name)
	k.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	return kafkaadmin.CreateTopic(ctx, k.client, name, partitions)
}
