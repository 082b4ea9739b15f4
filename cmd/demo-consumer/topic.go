package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// admin creates and removes the run's topics and groups and reads lag.
type admin struct {
	client    *kafkago.Client
	transport *kafkago.Transport
}

func newAdmin(brokers []string) *admin {
	t := &kafkago.Transport{}
	return &admin{client: &kafkago.Client{Addr: kafkago.TCP(brokers...), Transport: t, Timeout: 10 * time.Second}, transport: t}
}

func (a *admin) close() { a.transport.CloseIdleConnections() }

// createTopic creates topic and waits until every partition has a leader
// (writing earlier can fail with "Not Leader For Partition").
func (a *admin) createTopic(ctx context.Context, topic string, partitions int) error {
	res, err := a.client.CreateTopics(ctx, &kafkago.CreateTopicsRequest{Topics: []kafkago.TopicConfig{{
		Topic: topic, NumPartitions: partitions, ReplicationFactor: 1,
	}}})
	if err == nil {
		err = res.Errors[topic]
	}
	if errors.Is(err, kafkago.TopicAlreadyExists) {
		return fmt.Errorf("demo: topic %s already exists: choose another -topic", topic)
	}
	if err != nil {
		return fmt.Errorf("demo: creating topic %s: %w", topic, err)
	}
	return a.awaitLeaders(ctx, topic, partitions)
}

func (a *admin) awaitLeaders(ctx context.Context, topic string, partitions int) error {
	tick := time.NewTicker(20 * time.Millisecond) // the broker offers no signal: poll its metadata
	defer tick.Stop()
	for {
		meta, err := a.client.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
		if err == nil && leadersReady(meta, partitions) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("demo: topic %s has no leader for every partition: %w", topic, errors.Join(ctx.Err(), err))
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

// remove deletes the run's topics and consumer groups (errors ignored: it
// is cleanup).
func (a *admin) remove(ctx context.Context, topics, groups []string) {
	if len(groups) > 0 {
		_, _ = a.client.DeleteGroups(ctx, &kafkago.DeleteGroupsRequest{GroupIDs: groups})
	}
	if len(topics) > 0 {
		_, _ = a.client.DeleteTopics(ctx, &kafkago.DeleteTopicsRequest{Topics: topics})
	}
}
