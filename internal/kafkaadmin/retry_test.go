package kafkaadmin

import (
	"context"
	"errors"
	"fmt"
	"testing"

	kafkago "github.com/segmentio/kafka-go"
)

func TestRetryTemporary(t *testing.T) {
	fails := func(n int, err error) (func() error, *int) {
		calls := 0
		return func() error {
			if calls++; calls <= n {
				return fmt.Errorf("kafkaadmin: wrapped: %w", err)
			}
			return nil
		}, &calls
	}
	t.Run("TemporaryIsRetried", func(t *testing.T) {
		f, calls := fails(2, kafkago.NotCoordinatorForGroup)
		if err := retryTemporary(context.Background(), f); err != nil {
			t.Fatalf("got %v, want nil", err)
		}
		if *calls != 3 {
			t.Fatalf("got %d calls, want 3", *calls)
		}
	})
	t.Run("OtherErrorsAreNot", func(t *testing.T) {
		f, calls := fails(1, kafkago.GroupAuthorizationFailed)
		if err := retryTemporary(context.Background(), f); !errors.Is(err, kafkago.GroupAuthorizationFailed) {
			t.Fatalf("got %v, want GroupAuthorizationFailed", err)
		}
		if *calls != 1 {
			t.Fatalf("got %d calls, want 1", *calls)
		}
	})
	t.Run("StopsWithTheContext", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		f, _ := fails(1<<30, kafkago.GroupLoadInProgress)
		err := retryTemporary(ctx, f)
		if !errors.Is(err, kafkago.GroupLoadInProgress) || !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v, want the last error and context.Canceled", err)
		}
	})
}
