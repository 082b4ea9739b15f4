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
// directly against the broker.
type admin struct {
	client    *kafkago.Client
	transport *kafkago.Transport
}

func newAdmin(addr string) *admin {
	t := &kafkago.Transport{ClientID: "chaos-admin"}
	return &admin{client: &kafkago.Client{Addr: kafkago.TCP(addr), Transport: t, Timeout: 10 * time.Second}, transport: t}
}

func (a *admin) close() { a.transport.CloseIdleConnections() }

// createTopic creates topic and waits until every partition has a leader.
func (a *admin) createTopic(ctx context.Context, topic string, partitions int) error {
	if err := kafkaadmin.CreateTopic(ctx, a.client, topic, partitions); err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	return nil
}

// lag returns, per partition of topic, the end offset minus the group's
// committed offset (a partition without a commit counts from 0).
func (a *admin) lag(ctx context.Context, topic, group string, partitions int) (map[int]int64, error) {
	lag, err := kafkaadmin.Lag(ctx, a.client, topic, group, partitions)
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	return lag, nil
}

func (a *admin) endOffsets(ctx context.Context, topic string, partitions int) (map[int]int64, error) {
	ends, err := kafkaadmin.EndOffsets(ctx, a.client, topic, partitions)
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	return ends, nil
}

// stable reports whether group is Stable with n members.
func (a *admin) stable(ctx context.Context, group string, n int) (bool, error) {
	res, err := a.client.DescribeGroups(ctx, &kafkago.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil {
		return false, err
	}
	if len(res.Groups) != 1 || res.Groups[0].Error != nil {
		return false, nil
	}
	g := res.Groups[0]
	return g.GroupState == "Stable" && len(g.Members) == n, nil
}

// advertised returns the broker addresses that a metadata request sent to
// addr answers: through the Kafka proxy, the CHAOS listener's.
func advertised(ctx context.Context, addr string) ([]string, error) {
	t := &kafkago.Transport{ClientID: "chaos-probe"}
	defer t.CloseIdleConnections()
	c := &kafkago.Client{Addr: kafkago.TCP(addr), Transport: t, Timeout: 5 * time.Second}
	meta, err := c.Metadata(ctx, &kafkago.MetadataRequest{})
	if err != nil {
		return nil, err
	}
	var addrs []string
	for _, b := range meta.Brokers {
		addrs = append(addrs, fmt.Sprintf("%s:%d", b.Host, b.Port))
	}
	return addrs, nil
}

// remove deletes the run's topics and consumer groups (cleanup: errors
// ignored).
func (a *admin) remove(ctx context.Context, topics, groups []string) {
	_, _ = a.client.DeleteGroups(ctx, &kafkago.DeleteGroupsRequest{GroupIDs: groups})
	_, _ = a.client.DeleteTopics(ctx, &kafkago.DeleteTopicsRequest{Topics: topics})
}

// poll calls check every interval until it reports true or ctx ends (then
// ctx's error, joined with check's last one).
func poll(ctx context.Context, interval time.Duration, check func() (bool, error)) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		ok, err := check()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-tick.C:
		}
	}
}
