package idemqkafka

import (
	"strings"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// kafka-go's defaults (consumergroup.go, reader.go).
const (
	kafkaBackoffMin = 100 * time.Millisecond
	kafkaBackoffMax = time.Second
)

// The partition Readers' fetch limits where ReaderConfig leaves them zero.
const (
	defaultMaxBytes = 10 << 20
	defaultMaxWait  = 500 * time.Millisecond
)

// groupConfig derives the consumer group's configuration from the user's
// ReaderConfig, and checks every field the consumer passes on (kafka-go's
// NewReader panics on some that its Validate lets through).
func groupConfig(rc kafkago.ReaderConfig) (kafkago.ConsumerGroupConfig, error) {
	topics := rc.GroupTopics
	if len(topics) == 0 && rc.Topic != "" {
		topics = []string{rc.Topic}
	}
	gc := kafkago.ConsumerGroupConfig{
		ID: rc.GroupID, Brokers: rc.Brokers, Dialer: rc.Dialer, Topics: topics,
		GroupBalancers: rc.GroupBalancers, HeartbeatInterval: rc.HeartbeatInterval,
		PartitionWatchInterval: rc.PartitionWatchInterval, WatchPartitionChanges: rc.WatchPartitionChanges,
		SessionTimeout: rc.SessionTimeout, RebalanceTimeout: rc.RebalanceTimeout,
		JoinGroupBackoff: rc.JoinGroupBackoff, RetentionTime: rc.RetentionTime,
		StartOffset: rc.StartOffset, Logger: rc.Logger, ErrorLogger: rc.ErrorLogger,
	}
	if err := checkReader(rc); err != nil {
		return gc, err
	}
	check := gc // Validate fills in kafka-go's defaults
	if err := check.Validate(); err != nil {
		return gc, invalid("Reader", "%v", err)
	}
	if check.HeartbeatInterval > check.SessionTimeout/3 {
		return gc, invalid("Reader.HeartbeatInterval", "(%v) must be <= SessionTimeout/3 (%v)", check.HeartbeatInterval, check.SessionTimeout/3)
	}
	pc := partitionConfig(rc, "topic", 0)
	if err := pc.Validate(); err != nil {
		return gc, invalid("Reader", "%v", err)
	}
	return gc, nil
}

// checkReader refuses the Reader fields the consumer ignores and the values
// kafka-go would panic on or misread.
func checkReader(rc kafkago.ReaderConfig) error {
	durations := []struct {
		field string
		d     time.Duration
	}{
		{"MaxWait", rc.MaxWait}, {"ReadBatchTimeout", rc.ReadBatchTimeout}, {"ReadBackoffMin", rc.ReadBackoffMin},
		{"ReadBackoffMax", rc.ReadBackoffMax}, {"SessionTimeout", rc.SessionTimeout}, {"HeartbeatInterval", rc.HeartbeatInterval},
		{"RebalanceTimeout", rc.RebalanceTimeout}, {"JoinGroupBackoff", rc.JoinGroupBackoff},
		{"PartitionWatchInterval", rc.PartitionWatchInterval},
	}
	for _, d := range durations {
		if d.d < 0 {
			return invalid("Reader."+d.field, "is %v, want >= 0 (0: kafka-go's default)", d.d)
		}
	}
	for i, b := range rc.Brokers {
		if strings.TrimSpace(b) == "" {
			return invalid("Reader.Brokers", "[%d] is empty", i)
		}
	}
	switch {
	case rc.Partition != 0:
		return invalid("Reader.Partition", "must be 0: the group assigns partitions")
	case rc.CommitInterval != 0:
		return invalid("Reader.CommitInterval", "is set: the consumer commits itself; use Config.CommitInterval")
	case rc.ReadLagInterval > 0:
		return invalid("Reader.ReadLagInterval", "is set: the consumer's partition readers report no lag")
	case rc.OffsetOutOfRangeError:
		return invalid("Reader.OffsetOutOfRangeError", "is deprecated and unused by kafka-go")
	case rc.Topic != "" && len(rc.GroupTopics) > 0:
		return invalid("Reader.Topic", "and Reader.GroupTopics are both set: set one")
	case rc.QueueCapacity < 0:
		return invalid("Reader.QueueCapacity", "is %d, want >= 0 (0: kafka-go's 100)", rc.QueueCapacity)
	case rc.MaxAttempts < 0:
		return invalid("Reader.MaxAttempts", "is %d, want >= 0 (0: kafka-go's 3)", rc.MaxAttempts)
	case rc.IsolationLevel != kafkago.ReadUncommitted && rc.IsolationLevel != kafkago.ReadCommitted:
		return invalid("Reader.IsolationLevel", "is %d: want kafka.ReadUncommitted or kafka.ReadCommitted", rc.IsolationLevel)
	case rc.Dialer != nil && rc.Dialer.Timeout < 0:
		return invalid("Reader.Dialer.Timeout", "is %v, want >= 0", rc.Dialer.Timeout)
	case orDefault(rc.ReadBackoffMax, kafkaBackoffMax) < orDefault(rc.ReadBackoffMin, kafkaBackoffMin):
		return invalid("Reader.ReadBackoffMax", "is below ReadBackoffMin")
	}
	return nil
}

// partitionConfig is the configuration of the Reader of one assigned
// partition (no GroupID: the consumer positions it and commits itself).
func partitionConfig(rc kafkago.ReaderConfig, topic string, partition int) kafkago.ReaderConfig {
	return kafkago.ReaderConfig{
		Brokers: rc.Brokers, Topic: topic, Partition: partition, Dialer: rc.Dialer,
		QueueCapacity: rc.QueueCapacity, MinBytes: rc.MinBytes,
		MaxBytes: orDefault(rc.MaxBytes, defaultMaxBytes), MaxWait: orDefault(rc.MaxWait, defaultMaxWait),
		ReadBatchTimeout: rc.ReadBatchTimeout, ReadLagInterval: -1,
		ReadBackoffMin: rc.ReadBackoffMin, ReadBackoffMax: rc.ReadBackoffMax,
		Logger: rc.Logger, ErrorLogger: rc.ErrorLogger,
		IsolationLevel: rc.IsolationLevel, MaxAttempts: rc.MaxAttempts,
	}
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
