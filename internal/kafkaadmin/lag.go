package kafkaadmin

import (
	"context"
	"fmt"

	kafkago "github.com/segmentio/kafka-go"
)

// Lag returns, for each partition of topic, its end offset minus the
// offset group has committed there (a partition without a commit counts
// from 0). A temporary broker error, such as the group's coordinator still
// loading after a broker start, is retried until ctx ends.
func Lag(ctx context.Context, c *kafkago.Client, topic, group string, partitions int) (map[int]int64, error) {
	var lag map[int]int64
	err := retryTemporary(ctx, func() (err error) {
		lag, err = lagOnce(ctx, c, topic, group, partitions)
		return err
	})
	return lag, err
}

func lagOnce(ctx context.Context, c *kafkago.Client, topic, group string, partitions int) (map[int]int64, error) {
	ends, err := endOffsetsOnce(ctx, c, topic, partitions)
	if err != nil {
		return nil, err
	}
	committed, err := committedOnce(ctx, c, topic, group, partitions)
	if err != nil {
		return nil, err
	}
	lag := make(map[int]int64, partitions)
	for p, end := range ends {
		lag[p] = end - max(committed[p], 0)
	}
	return lag, nil
}

// Committed returns, for each partition of topic, the offset group has
// committed there (-1: none). A temporary broker error is retried until
// ctx ends.
func Committed(ctx context.Context, c *kafkago.Client, topic, group string, partitions int) (map[int]int64, error) {
	var offs map[int]int64
	err := retryTemporary(ctx, func() (err error) {
		offs, err = committedOnce(ctx, c, topic, group, partitions)
		return err
	})
	return offs, err
}

func committedOnce(ctx context.Context, c *kafkago.Client, topic, group string, partitions int) (map[int]int64, error) {
	ids := make([]int, partitions)
	for p := range ids {
		ids[p] = p
	}
	res, err := c.OffsetFetch(ctx, &kafkago.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: ids}})
	if err == nil {
		err = res.Error
	}
	if err != nil {
		return nil, fmt.Errorf("kafkaadmin: fetching the offsets of group %s: %w", group, err)
	}
	offs := make(map[int]int64, partitions)
	for p := range partitions {
		offs[p] = -1
	}
	for _, p := range res.Topics[topic] {
		offs[p.Partition] = p.CommittedOffset
	}
	return offs, nil
}

// EndOffsets returns the end offset (the offset the next message will get)
// of each partition of topic. A temporary broker error, such as a
// partition without a leader yet, is retried until ctx ends.
func EndOffsets(ctx context.Context, c *kafkago.Client, topic string, partitions int) (map[int]int64, error) {
	var ends map[int]int64
	err := retryTemporary(ctx, func() (err error) {
		ends, err = endOffsetsOnce(ctx, c, topic, partitions)
		return err
	})
	return ends, err
}

func endOffsetsOnce(ctx context.Context, c *kafkago.Client, topic string, partitions int) (map[int]int64, error) {
	req := make([]kafkago.OffsetRequest, partitions)
	for p := range req {
		req[p] = kafkago.LastOffsetOf(p)
	}
	res, err := c.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{topic: req}})
	if err != nil {
		return nil, fmt.Errorf("kafkaadmin: listing the end offsets of %s: %w", topic, err)
	}
	ends := make(map[int]int64, partitions)
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("kafkaadmin: end offset of %s/%d: %w", topic, p.Partition, p.Error)
		}
		ends[p.Partition] = p.LastOffset
	}
	return ends, nil
}
