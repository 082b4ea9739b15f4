package kafkaadmin_test

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/internal/kafkaadmin"
	"github.com/idemq/idemq/internal/testenv"
)

// TestCreateTopic: the metadata of a new topic names a leader for every
// partition, and it can be written (kafka-go's Writer retries the moment a
// leader named in the metadata has not taken over yet); a second create of
// the same name is TopicAlreadyExists.
func TestCreateTopic(t *testing.T) {
	k := testenv.Kafka(t)
	c := k.Client(t)
	topic := testenv.Name(t)
	k.DeleteAtCleanup(t, topic)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := kafkaadmin.CreateTopic(ctx, c, topic, 3); err != nil {
		t.Fatalf("CreateTopic: %v", err)
	}
	meta, err := c.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		t.Fatalf("Metadata: %v", err)
	}
	for _, p := range meta.Topics[0].Partitions {
		if p.Leader.Host == "" {
			t.Errorf("partition %d has no leader right after CreateTopic", p.ID)
		}
	}
	w := k.Writer(t, topic)
	w.Balancer = &kafkago.RoundRobin{}
	if err := w.WriteMessages(ctx, kafkago.Message{Value: []byte("a")}, kafkago.Message{Value: []byte("b")}, kafkago.Message{Value: []byte("c")}); err != nil {
		t.Fatalf("writing right after CreateTopic: %v", err)
	}
	err = kafkaadmin.CreateTopic(ctx, c, topic, 3)
	if !errors.Is(err, kafkago.TopicAlreadyExists) {
		t.Fatalf("second CreateTopic: got %v, want TopicAlreadyExists", err)
	}
}

// TestLag: a group that committed nothing lags by the end offsets and has
// no committed offset (-1); after a commit on one partition, that partition
// lags by what follows the commit, and Committed returns it.
func TestLag(t *testing.T) {
	k := testenv.Kafka(t)
	c := k.Client(t)
	topic, group := k.Topic(t, 2), k.Group(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	w := k.Writer(t, topic)
	w.Balancer = kafkago.BalancerFunc(func(_ kafkago.Message, _ ...int) int { return 0 })
	for range 3 {
		if err := w.WriteMessages(ctx, kafkago.Message{Value: []byte("x")}); err != nil {
			t.Fatalf("write: %v", err)
		}
	}
	lag, err := kafkaadmin.Lag(ctx, c, topic, group, 2)
	if err != nil {
		t.Fatalf("Lag: %v", err)
	}
	if got, want := lag, map[int]int64{0: 3, 1: 0}; !maps.Equal(got, want) {
		t.Fatalf("lag before any commit: got %v, want %v", got, want)
	}
	committed, err := kafkaadmin.Committed(ctx, c, topic, group, 2)
	if got, want := committed, map[int]int64{0: -1, 1: -1}; err != nil || !maps.Equal(got, want) {
		t.Fatalf("Committed before any commit = %v, %v; want %v", got, err, want)
	}
	res, err := c.OffsetCommit(ctx, &kafkago.OffsetCommitRequest{GroupID: group, GenerationID: -1,
		Topics: map[string][]kafkago.OffsetCommit{topic: {{Partition: 0, Offset: 2}}}})
	if err == nil {
		err = errors.Join(offsetErrors(res)...)
	}
	if err != nil {
		t.Fatalf("OffsetCommit: %v", err)
	}
	if lag, err = kafkaadmin.Lag(ctx, c, topic, group, 2); err != nil {
		t.Fatalf("Lag: %v", err)
	}
	if got, want := lag, map[int]int64{0: 1, 1: 0}; !maps.Equal(got, want) {
		t.Fatalf("lag after committing offset 2: got %v, want %v", got, want)
	}
	committed, err = kafkaadmin.Committed(ctx, c, topic, group, 2)
	if got, want := committed, map[int]int64{0: 2, 1: -1}; err != nil || !maps.Equal(got, want) {
		t.Fatalf("Committed after committing offset 2 = %v, %v; want %v", got, err, want)
	}
}

func offsetErrors(res *kafkago.OffsetCommitResponse) []error {
	var errs []error
	for _, ps := range res.Topics {
		for _, p := range ps {
			errs = append(errs, p.Error)
		}
	}
	return errs
}
