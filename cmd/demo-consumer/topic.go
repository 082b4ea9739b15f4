package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/internal/kafkaadmin"
)

// admin creates and removes the run's topics and groups and reads lag,
// with internal/kafkaadmin.
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
// (a write before that finds no leader to send to).
func (a *admin) createTopic(ctx context.Context, topic string, partitions int) error {
	err := kafkaadmin.CreateTopic(ctx, a.client, topic, partitions)
	if errors.Is(err, kafkago.TopicAlreadyExists) {
		return fmt.Errorf("demo: topic %s already exists: choose another -topic", topic)
	}
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// remove deletes the run's topics and consumer groups (errors ignored: it
// is cleanup).
func (a *admin) remove(ctx context.Context, topics, groups []string) {
	_ = kafkaadmin.Remove(ctx, a.client, topics, groups)
}
