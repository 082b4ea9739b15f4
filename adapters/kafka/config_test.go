package kafka_test

import (
	"context"
	"errors"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/dedupe"
)

// TestConfigErrors proves that a Config NewConsumer cannot run with is an
// ErrInvalidConfig error naming the problem, never a panic (kafka-go's
// NewReader panics on some of these).
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
	for _, tc := range []struct {
		name   string
		change func(*idemqkafka.Config[string])
	}{
		{"NoStore", func(c *idemqkafka.Config[string]) { c.Store = nil }},
		{"NoHandle", func(c *idemqkafka.Config[string]) { c.Handle = nil }},
		{"NoBrokers", func(c *idemqkafka.Config[string]) { c.Reader.Brokers = nil }},
		{"NoGroup", func(c *idemqkafka.Config[string]) { c.Reader.GroupID = "" }},
		{"NoTopic", func(c *idemqkafka.Config[string]) { c.Reader.Topic = "" }},
		{"Partition", func(c *idemqkafka.Config[string]) { c.Reader.Partition = 3 }},
		{"HeartbeatTooSlow", func(c *idemqkafka.Config[string]) {
			c.Reader.HeartbeatInterval, c.Reader.SessionTimeout = 3*time.Second, 6*time.Second
		}},
		{"MinBytesAboveMaxBytes", func(c *idemqkafka.Config[string]) { c.Reader.MinBytes, c.Reader.MaxBytes = 10, 5 }},
		{"ReadBackoffInverted", func(c *idemqkafka.Config[string]) { c.Reader.ReadBackoffMin = 5 * time.Second }},
		{"DeadLetterPolicyWithoutWriter", func(c *idemqkafka.Config[string]) { c.InvalidKey = idemqkafka.KeyDeadLetter }},
		{"DeadLetterNoTopic", func(c *idemqkafka.Config[string]) {
			c.DeadLetter = &kafkago.Writer{RequiredAcks: kafkago.RequireAll}
		}},
		{"DeadLetterNoAcks", func(c *idemqkafka.Config[string]) { c.DeadLetter = &kafkago.Writer{Topic: "dlt"} }},
		{"DeadLetterAsync", func(c *idemqkafka.Config[string]) {
			c.DeadLetter = &kafkago.Writer{Topic: "dlt", RequiredAcks: kafkago.RequireAll, Async: true}
		}},
		{"UnknownPolicy", func(c *idemqkafka.Config[string]) { c.InvalidKey = 9 }},
		{"UnknownOrdering", func(c *idemqkafka.Config[string]) { c.Ordering = -1 }},
		{"NegativeAttempts", func(c *idemqkafka.Config[string]) { c.Attempts = -1 }},
		{"ShortLease", func(c *idemqkafka.Config[string]) { c.Lease = time.Millisecond }},
		{"BackoffInverted", func(c *idemqkafka.Config[string]) {
			c.Backoff = idemqkafka.Backoff{Min: time.Second, Max: time.Millisecond}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid()
			tc.change(&cfg)
			c, err := idemqkafka.NewConsumer(cfg)
			if !errors.Is(err, idemqkafka.ErrInvalidConfig) || c != nil {
				t.Errorf("NewConsumer = %v, %v; want nil, ErrInvalidConfig", c, err)
			}
		})
	}
	t.Run("ValidWithDefaults", func(t *testing.T) {
		t.Parallel()
		if _, err := idemqkafka.NewConsumer(valid()); err != nil {
			t.Errorf("NewConsumer = %v, want nil", err)
		}
		p, err := idemqkafka.NewProcessor(idemqkafka.Config[string]{Store: store, Handle: valid().Handle})
		if err != nil {
			t.Fatalf("NewProcessor without Reader = %v, want nil", err)
		}
		if err := p.Close(); err != nil {
			t.Errorf("Processor.Close = %v", err)
		}
	})
}
