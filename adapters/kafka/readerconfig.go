package kafka

import (
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// groupConfig derives the consumer group's configuration from the user's
// ReaderConfig, and checks it as kafka-go would (NewReader panics on what
// this returns as an error).
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
	if rc.Partition != 0 {
		return gc, invalid("Reader.Partition must be 0: the group assigns partitions")
	}
	check := gc
	if err := check.Validate(); err != nil {
		return gc, invalid("Reader: %v", err)
	}
	if check.HeartbeatInterval > check.SessionTimeout/3 {
		return gc, invalid("Reader.HeartbeatInterval (%v) must be <= SessionTimeout/3 (%v)", check.HeartbeatInterval, check.SessionTimeout/3)
	}
	pc := partitionConfig(rc, "topic", 0)
	if err := pc.Validate(); err != nil {
		return gc, invalid("Reader: %v", err)
	}
	if backoffMax(pc) < backoffMin(pc) {
		return gc, invalid("Reader.ReadBackoffMax is below ReadBackoffMin")
	}
	return gc, nil
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

// kafka-go's defaults for the read backoff (reader.go).
func backoffMin(rc kafkago.ReaderConfig) time.Duration {
	return orDefault(rc.ReadBackoffMin, 100*time.Millisecond)
}

func backoffMax(rc kafkago.ReaderConfig) time.Duration {
	return orDefault(rc.ReadBackoffMax, time.Second)
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
