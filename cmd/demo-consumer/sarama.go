package main

import (
	"fmt"
	"time"

	"github.com/IBM/sarama"
	wkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/rcrowley/go-metrics"
)

// Sarama records metrics the demo never reads, and go-metrics starts a
// goroutine for them that never ends (Sarama's documented switch turns
// them off).
func init() { metrics.UseNilMetrics = true }

// saramaConfig is member m's Sarama configuration: the same group timings
// as the kafka-go consumers, connections through its kill switch. It keeps
// Sarama's default protocol version (2.1.0): with 3.6.0 kfake answers a
// request that Sarama v1.43.3 cannot decode ("invalid byteslice length").
func saramaConfig(m *member) *sarama.Config {
	c := wkafka.DefaultSaramaSubscriberConfig()
	c.ClientID = fmt.Sprintf("demo-watermill-%d", m.id)
	c.Net.Proxy.Enable, c.Net.Proxy.Dialer = true, m.ks
	c.Metadata.Retry.Backoff = 100 * time.Millisecond
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.MaxWaitTime = maxWait
	c.Consumer.Group.Heartbeat.Interval = heartbeatInterval
	c.Consumer.Group.Session.Timeout = sessionTimeout
	c.Consumer.Group.Rebalance.Timeout = rebalanceTimeout
	c.Consumer.Group.Rebalance.Retry.Backoff = 100 * time.Millisecond
	return c
}

// generationTracer is not a tracer: it is watermill-kafka's only hook into
// Sarama's consumer-group handler, used to see each session's generation.
type generationTracer struct {
	watch *groupWatch
	id    int
}

func (t generationTracer) WrapConsumerGroupHandler(h sarama.ConsumerGroupHandler) sarama.ConsumerGroupHandler {
	return sessionHandler{ConsumerGroupHandler: h, t: t}
}

func (generationTracer) WrapConsumer(c sarama.Consumer) sarama.Consumer { return c }
func (generationTracer) WrapPartitionConsumer(pc sarama.PartitionConsumer) sarama.PartitionConsumer {
	return pc
}
func (generationTracer) WrapSyncProducer(_ *sarama.Config, p sarama.SyncProducer) sarama.SyncProducer {
	return p
}

type sessionHandler struct {
	sarama.ConsumerGroupHandler
	t generationTracer
}

func (h sessionHandler) Setup(s sarama.ConsumerGroupSession) error {
	h.t.watch.joined(h.t.id, s.GenerationID())
	return h.ConsumerGroupHandler.Setup(s)
}
