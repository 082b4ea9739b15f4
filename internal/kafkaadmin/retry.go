package kafkaadmin

import (
	"context"
	"errors"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// retryPause is the pause between two attempts of a request that failed
// with a temporary broker error: the broker says nothing when it is ready.
const retryPause = 50 * time.Millisecond

// retryTemporary calls f until it returns nil or an error other than a
// temporary Kafka error, or ctx ends (then f's last error, joined with
// ctx's).
func retryTemporary(ctx context.Context, f func() error) error {
	tick := time.NewTicker(retryPause)
	defer tick.Stop()
	for {
		err := f()
		var kerr kafkago.Error
		if err == nil || !errors.As(err, &kerr) || !kerr.Temporary() {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-tick.C:
		}
	}
}
