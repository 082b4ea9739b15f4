// Package kafkaadmin holds the broker administration that the demo, the
// chaos run, the benchmarks and the tests share: creating a topic and
// waiting until it can be written, and reading a consumer group's lag.
package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// leaderPoll is how often AwaitLeaders asks for metadata: the broker offers
// no signal when a new partition gets its leader.
const leaderPoll = 20 * time.Millisecond

// CreateTopic creates topic with the given number of partitions (replication
// factor 1) and waits until the metadata names a leader for every
// partition: a write before that finds no leader to send to. (Right after
// it, a write may still meet "Not Leader For Partition" while the leader
// takes over, which kafka-go's Writer retries.) An existing topic is an
// error that matches kafkago.TopicAlreadyExists with errors.Is.
func CreateTopic(ctx context.Context, c *kafkago.Client, topic string, partitions int) error {
	res, err := c.CreateTopics(ctx, &kafkago.CreateTopicsRequest{Topics: []kafkago.TopicConfig{{
		Topic: topic, NumPartitions: partitions, ReplicationFactor: 1,
	}}})
	if err == nil {
		err = res.Errors[topic]
	}
	if err != nil {
		return fmt.Errorf("kafkaadmin: creating topic %s: %w", topic, err)
	}
	return AwaitLeaders(ctx, c, topic, partitions)
}

// AwaitLeaders polls the metadata of topic until each of its partitions has
// a leader, or ctx ends.
func AwaitLeaders(ctx context.Context, c *kafkago.Client, topic string, partitions int) error {
	tick := time.NewTicker(leaderPoll)
	defer tick.Stop()
	for {
		meta, err := c.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
		if err == nil && leadersReady(meta, partitions) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("kafkaadmin: topic %s has no leader for every partition: %w", topic, errors.Join(ctx.Err(), err))
		case <-tick.C:
		}
	}
}

func leadersReady(meta *kafkago.MetadataResponse, partitions int) bool {
	if len(meta.Topics) != 1 || meta.Topics[0].Error != nil || len(meta.Topics[0].Partitions) != partitions {
		return false
	}
	for _, p := range meta.Topics[0].Partitions {
		if p.Error != nil || p.Leader.Host == "" {
			return false
		}
	}
	return true
}
