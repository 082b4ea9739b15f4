package main

import (
	"context"
	"fmt"
	"time"

	"github.com/idemq/idemq/internal/kafkaadmin"
)

// lag returns how many messages of topic the group has not committed yet:
// the sum over partitions of the end offset minus the committed offset
// (a partition without a commit counts from 0).
func (a *admin) lag(ctx context.Context, topic, group string, partitions int) (int64, error) {
	lags, err := kafkaadmin.Lag(ctx, a.client, topic, group, partitions)
	if err != nil {
		return 0, fmt.Errorf("demo: %w", err)
	}
	var lag int64
	for _, l := range lags {
		lag += l
	}
	return lag, nil
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
