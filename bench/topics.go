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

// topic is a produced topic and what its keys look like.
type topic struct {
	name       string
	messages   int
	repeats    int // messages whose key an earlier message had
	elsewhere  int // repeats on another partition than the key's first message
	uniqueKeys int
}

// produceTopics creates and fills both topics, once for the whole run.
func (k *kafkaCluster) produceTopics(ctx context.Context, o options, log io.Writer) error {
	start := time.Now()
	var err error
	if k.fresh, err = k.produce(ctx, o, "fresh", 0); err != nil {
		return err
	}
	if k.dups, err = k.produce(ctx, o, "dup20", dupShare); err != nil {
		return err
	}
	fmt.Fprintf(log, "bench: produced 2 topics of %d × %d B on %d partitions in %s\n",
		o.messages, o.valueSize, o.partitions, time.Since(start).Round(time.Millisecond))
	return nil
}

// produce creates a topic and writes o.messages messages round-robin, a
// share of them repeating the key of a random earlier message (so most
// repeats land on another partition than their key's first message).
func (k *kafkaCluster) produce(ctx context.Context, o options, suffix string, share float64) (topic, error) {
	t := topic{name: "idemqbench-" + k.runID + "-" + suffix, messages: o.messages}
	if err := k.createTopic(ctx, t.name, o.partitions); err != nil {
		return t, err
	}
	bal := &recordingBalancer{first: map[string]int{}}
	transport := &kafkago.Transport{}
	defer transport.CloseIdleConnections()
	w := &kafkago.Writer{Addr: kafkago.TCP(k.brokers...), Topic: t.name, Balancer: bal,
		RequiredAcks: kafkago.RequireAll, BatchSize: 1000, BatchTimeout: time.Millisecond, Transport: transport}
	defer w.Close()
	value := make([]byte, o.valueSize)
	r := rand.New(rand.NewPCG(3, 4))
	keys := make([]string, 0, o.messages)
	msgs := make([]kafkago.Message, 0, 10_000)
	for i := range o.messages {
		key := "k" + strconv.Itoa(i)
		if i > 0 && r.Float64() < share {
			key = keys[r.IntN(i)]
		}
		keys = append(keys, key)
		msgs = append(msgs, kafkago.Message{Value: value, Headers: []kafkago.Header{{Key: keyHeader, Value: []byte(key)}}})
		if len(msgs) == cap(msgs) || i == o.messages-1 {
			if err := w.WriteMessages(ctx, msgs...); err != nil {
				return t, fmt.Errorf("producing %s: %.300v", t.name, err)
			}
			msgs = msgs[:0]
		}
	}
	t.repeats, t.elsewhere, t.uniqueKeys = bal.repeats, bal.elsewhere, len(bal.first)
	return t, w.Close()
}

// recordingBalancer is round-robin, and counts where repeated keys land.
// The Writer calls it once per message, in order, from WriteMessages.
type recordingBalancer struct {
	rr        kafkago.RoundRobin
	first     map[string]int // key → partition of its first message
	repeats   int
	elsewhere int
}

func (b *recordingBalancer) Balance(m kafkago.Message, partitions ...int) int {
	p := b.rr.Balance(m, partitions...)
	key := string(m.Headers[0].Value)
	if f, ok := b.first[key]; !ok {
		b.first[key] = p
	} else if b.repeats++; f != p {
		b.elsewhere++
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
