package main

import (
	"context"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// lag returns how many messages of topic the group has not committed yet:
// the sum over partitions of the end offset minus the committed offset
// (a partition without a commit counts from 0).
func (a *admin) lag(ctx context.Context, topic, group string, partitions int) (int64, error) {
	ends, err := a.endOffsets(ctx, topic, partitions)
	if err != nil {
		return 0, err
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
		return 0, fmt.Errorf("demo: fetching the offsets of group %s: %w", group, err)
	}
	var lag int64
	for _, p := range res.Topics[topic] {
		lag += ends[p.Partition] - max(p.CommittedOffset, 0)
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
		return nil, fmt.Errorf("demo: listing the end offsets of %s: %w", topic, err)
	}
	ends := map[int]int64{}
	for _, p := range res.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("demo: end offset of %s/%d: %w", topic, p.Partition, p.Error)
		}
		ends[p.Partition] = p.LastOffset
	}
	return ends, nil
}

// awaitNoLag polls the group's lag until it is 0 or ctx ends, and returns
// the last value. Offset commits give no signal outside the consumer, so
// the broker is asked every 100ms.
func (a *admin) awaitNoLag(ctx context.Context, topic, group string, partitions int) (int64, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		lag, err := a.lag(ctx, topic, group, partitions)
		if err == nil && lag == 0 {
			return 0, nil
		}
		select {
		case <-ctx.Done():
			return lag, err
		case <-tick.C:
		}
	}
}
