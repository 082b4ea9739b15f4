package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
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
	res, err := a.client.CreateTopics(ctx, &kafkago.CreateTopicsRequest{Topics: []kafkago.TopicConfig{{
		Topic: topic, NumPartitions: partitions, ReplicationFactor: 1,
	}}})
	if err == nil {
		err = res.Errors[topic]
	}
	if err != nil {
		return fmt.Errorf("chaos: creating topic %s: %w", topic, err)
	}
	return poll(ctx, 50*time.Millisecond, func() (bool, error) {
		meta, err := a.client.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
		return err == nil && leadersReady(meta, partitions), err
	})
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

// lag returns, per partition of topic, the end offset minus the group's
// committed offset (a partition without a commit counts from 0).
func (a *admin) lag(ctx context.Context, topic, group string, partitions int) (map[int]int64, error) {
	ends, err := a.endOffsets(ctx, topic, partitions)
	if err != nil {
		return nil, err
	}
	ids := make([]int, partitions)
	for p := range ids {
		ids[p] = p
	}
	res, err := a.client.OffsetFetch(ctx, &kafkago.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: ids}})
	if err == nil {
		err = res.Error
	}
	if err != nil {
		return nil, fmt.Errorf("chaos: offsets of group %s: %w", group, err)
	}
	lag := make(map[int]int64, partitions)
	for p, end := range ends {
		lag[p] = end
	}
	for _, p := range res.Topics[topic] {
		lag[p.Partition] = ends[p.Partition] - max(p.CommittedOffset, 0)
	}
	return lag, nil
}

func (a *admin) endOffsets(ctx context.Context, topic string, partitions int) (map[int]int64, error) {
	req := make([]kafkago.OffsetRequest, partitions)
	for p := range req {
		req[p] = kafkago.LastOffsetOf(p)
	}
	res, err := a.client.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{topic: req}})
	if err != nil {
		return nil, fmt.Errorf("chaos: end offsets of %s: %w", topic, err)
	}
	ends := map[int]int64{}
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("chaos: end offset of %s/%d: %w", topic, p.Partition, p.Error)
		}
		ends[p.Partition] = p.LastOffset
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
