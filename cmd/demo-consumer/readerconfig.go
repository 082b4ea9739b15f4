package main

import (
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// Consumer-group timings shared by every flavour. The broker drops a member
// that misses a rebalance after RebalanceTimeout, so the crashed consumer
// holds its partitions for about that long once another one joins.
const (
	heartbeatInterval = 100 * time.Millisecond
	sessionTimeout    = 6 * time.Second // the broker's minimum by default
	rebalanceTimeout  = time.Second
	maxWait           = 250 * time.Millisecond // kafka-go's 10s default slows every rebalance and Close
)

// readerConfig is member m's kafka-go consumer-group configuration: its
// connections go through its kill switch, its joins are reported to the
// phase's group watch.
func (ph *phase) readerConfig(m *member) kafkago.ReaderConfig {
	return kafkago.ReaderConfig{
		Brokers:           ph.env.brokers,
		GroupID:           ph.group,
		Topic:             ph.topic,
		Dialer:            &kafkago.Dialer{ClientID: fmt.Sprintf("demo-%s-%d", ph.slug, m.id), Timeout: 10 * time.Second, DialFunc: m.ks.DialContext},
		MinBytes:          1,
		MaxBytes:          10 << 20,
		MaxWait:           maxWait,
		HeartbeatInterval: heartbeatInterval,
		SessionTimeout:    sessionTimeout,
		RebalanceTimeout:  rebalanceTimeout,
		JoinGroupBackoff:  100 * time.Millisecond,
		StartOffset:       kafkago.FirstOffset,
		Logger:            ph.watch.kafkaLogger(m.id),
	}
}

// header returns the value of m's header name, or "".
func header(m kafkago.Message, name string) string {
	for _, h := range m.Headers {
		if h.Key == name {
			return string(h.Value)
		}
	}
	return ""
}

func positionOf(m kafkago.Message) position { return position{m.Partition, m.Offset} }
