package testenv_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/internal/testenv"
)

// TestKafkaIsReal produces 1,000 messages with headers to a 4-partition topic,
// consumes part of them in a consumer group with manual commits, closes the
// reader, and proves that a new member of the same group resumes exactly after
// the committed offsets: every message is seen once, none is lost.
func TestKafkaIsReal(t *testing.T) {
	t.Parallel()
	const total, firstHalf = 1000, 600
	k := testenv.Kafka(t)
	topic := k.Topic(t, 4)
	group := k.Group(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	produce(ctx, t, k.Writer(t, topic), total)
	seen := map[string]int{}
	partitions := map[int]bool{}
	consume(ctx, t, k.ReaderConfig(topic, group), firstHalf, seen, partitions)
	consume(ctx, t, k.ReaderConfig(topic, group), total-firstHalf, seen, partitions)

	if len(seen) != total {
		t.Errorf("distinct messages seen = %d, want %d", len(seen), total)
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("message %s seen %d times, want 1", id, n)
		}
	}
	if len(partitions) != 4 {
		t.Errorf("messages came from %d partitions, want 4", len(partitions))
	}
}

func produce(ctx context.Context, t *testing.T, w *kafkago.Writer, n int) {
	t.Helper()
	msgs := make([]kafkago.Message, n)
	for i := range msgs {
		id := strconv.Itoa(i)
		msgs[i] = kafkago.Message{
			Key:     []byte("key-" + id),
			Value:   []byte("value-" + id),
			Headers: []kafkago.Header{{Key: "idempotency-key", Value: []byte(id)}},
		}
	}
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("WriteMessages: %v", err)
	}
}

// consume reads n messages as one group member, committing every 50 and at the
// end, then closes the reader.
func consume(ctx context.Context, t *testing.T, cfg kafkago.ReaderConfig, n int, seen map[string]int, partitions map[int]bool) {
	t.Helper()
	r := kafkago.NewReader(cfg)
	defer func() {
		if err := r.Close(); err != nil {
			t.Errorf("closing reader: %v", err)
		}
	}()
	var batch []kafkago.Message
	for i := 0; i < n; i++ {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			t.Fatalf("FetchMessage after %d of %d: %v", i, n, err)
		}
		id, err := header(m, "idempotency-key")
		if err != nil {
			t.Fatal(err)
		}
		if want := "value-" + id; string(m.Value) != want {
			t.Fatalf("message %s has value %q, want %q", id, m.Value, want)
		}
		seen[id]++
		partitions[m.Partition] = true
		batch = append(batch, m)
		if len(batch) == 50 || i == n-1 {
			if err := r.CommitMessages(ctx, batch...); err != nil {
				t.Fatalf("CommitMessages: %v", err)
			}
			batch = batch[:0]
		}
	}
}

func header(m kafkago.Message, key string) (string, error) {
	for _, h := range m.Headers {
		if h.Key == key {
			return string(h.Value), nil
		}
	}
	return "", fmt.Errorf("message at %d/%d has no %q header", m.Partition, m.Offset, key)
}
