package idemqkafka_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
)

// TestConfigErrors proves that every kafka-go setting a user could get
// wrong (Reader, the DeadLetter writer) is a *ConfigError naming the field
// at NewConsumer, matching ErrInvalidConfig, never a panic or a hang later
// (kafka-go's NewReader panics on some of these; a dead-letter writer
// without an address would retry for ever). The fields both adapters share
// are kafkatest's Config scenarios (TestScenarios).
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	store := dedupe.NewMemoryStore()
	t.Cleanup(func() { _ = store.Close() })
	valid := func() idemqkafka.Config[string] {
		return idemqkafka.Config[string]{
			Reader: kafkago.ReaderConfig{Brokers: []string{"127.0.0.1:1"}, GroupID: "g", Topic: "t"},
			Store:  store,
			Handle: func(context.Context, kafkago.Message, dedupe.End[string]) error { return nil },
		}
	}
	writer := func(change func(w *kafkago.Writer)) func(*idemqkafka.Config[string]) {
		return func(c *idemqkafka.Config[string]) {
			w := &kafkago.Writer{Addr: kafkago.TCP("127.0.0.1:1"), Topic: "dlt", RequiredAcks: kafkago.RequireAll}
			change(w)
			c.DeadLetter = w
		}
	}
	type change = func(*idemqkafka.Config[string])
	for _, tc := range []struct {
		name, field string
		change      change
	}{
		{"NoBrokers", "Reader", func(c *idemqkafka.Config[string]) { c.Reader.Brokers = nil }},
		{"EmptyBroker", "Reader.Brokers", func(c *idemqkafka.Config[string]) { c.Reader.Brokers = []string{"127.0.0.1:1", " "} }},
		{"NoGroup", "Reader", func(c *idemqkafka.Config[string]) { c.Reader.GroupID = "" }},
		{"NoTopic", "Reader", func(c *idemqkafka.Config[string]) { c.Reader.Topic = "" }},
		{"TopicAndGroupTopics", "Reader.Topic", func(c *idemqkafka.Config[string]) { c.Reader.GroupTopics = []string{"u"} }},
		{"Partition", "Reader.Partition", func(c *idemqkafka.Config[string]) { c.Reader.Partition = 3 }},
		{"ReaderCommitInterval", "Reader.CommitInterval", func(c *idemqkafka.Config[string]) { c.Reader.CommitInterval = time.Second }},
		{"ReaderLagInterval", "Reader.ReadLagInterval", func(c *idemqkafka.Config[string]) { c.Reader.ReadLagInterval = time.Second }},
		{"NegativeQueueCapacity", "Reader.QueueCapacity", func(c *idemqkafka.Config[string]) { c.Reader.QueueCapacity = -1 }},
		{"NegativeMaxWait", "Reader.MaxWait", func(c *idemqkafka.Config[string]) { c.Reader.MaxWait = -time.Second }},
		{"NegativeReadBatchTimeout", "Reader.ReadBatchTimeout", func(c *idemqkafka.Config[string]) { c.Reader.ReadBatchTimeout = -1 }},
		{"NegativeMaxAttempts", "Reader.MaxAttempts", func(c *idemqkafka.Config[string]) { c.Reader.MaxAttempts = -1 }},
		{"UnknownIsolationLevel", "Reader.IsolationLevel", func(c *idemqkafka.Config[string]) { c.Reader.IsolationLevel = 7 }},
		{"NegativeDialerTimeout", "Reader.Dialer.Timeout", func(c *idemqkafka.Config[string]) { c.Reader.Dialer = &kafkago.Dialer{Timeout: -1} }},
		{"NegativeSessionTimeout", "Reader.SessionTimeout", func(c *idemqkafka.Config[string]) { c.Reader.SessionTimeout = -time.Second }},
		{"HeartbeatTooSlow", "Reader.HeartbeatInterval", func(c *idemqkafka.Config[string]) {
			c.Reader.HeartbeatInterval, c.Reader.SessionTimeout = 3*time.Second, 6*time.Second
		}},
		{"BadStartOffset", "Reader", func(c *idemqkafka.Config[string]) { c.Reader.StartOffset = 42 }},
		{"MinBytesAboveMaxBytes", "Reader", func(c *idemqkafka.Config[string]) { c.Reader.MinBytes, c.Reader.MaxBytes = 10, 5 }},
		{"ReadBackoffInverted", "Reader.ReadBackoffMax", func(c *idemqkafka.Config[string]) { c.Reader.ReadBackoffMin = 5 * time.Second }},
		{"DeadLetterNoAddr", "DeadLetter.Addr", writer(func(w *kafkago.Writer) { w.Addr = nil })},
		{"DeadLetterNoTopic", "DeadLetter.Topic", writer(func(w *kafkago.Writer) { w.Topic = "" })},
		{"DeadLetterNoAcks", "DeadLetter.RequiredAcks", writer(func(w *kafkago.Writer) { w.RequiredAcks = kafkago.RequireNone })},
		{"DeadLetterBadAcks", "DeadLetter.RequiredAcks", writer(func(w *kafkago.Writer) { w.RequiredAcks = 5 })},
		{"DeadLetterAsync", "DeadLetter.Async", writer(func(w *kafkago.Writer) { w.Async = true })},
		{"DeadLetterNegativeBatchBytes", "DeadLetter", writer(func(w *kafkago.Writer) { w.BatchBytes = -1 })},
		{"DeadLetterNegativeTimeout", "DeadLetter.WriteTimeout", writer(func(w *kafkago.Writer) { w.WriteTimeout = -time.Second })},
		{"DeadLetterBadCompression", "DeadLetter.Compression", writer(func(w *kafkago.Writer) { w.Compression = 9 })},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid()
			tc.change(&cfg)
			c, err := idemqkafka.NewConsumer(cfg)
			var ce *consumer.ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, consumer.ErrInvalidConfig) || c != nil {
				t.Fatalf("NewConsumer = %v, %v; want nil, a *ConfigError", c, err)
			}
			if ce.Field != tc.field || !strings.HasPrefix(err.Error(), "idemqkafka: invalid config: "+tc.field) {
				t.Errorf("error %q names field %q, want %q", err, ce.Field, tc.field)
			}
		})
	}
}
