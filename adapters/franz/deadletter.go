package idemqfranz

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/idemq/idemq/internal/consume"
)

// Headers added to a dead-lettered record, after its own headers.
const (
	HeaderOriginalTopic     = "idemq-original-topic"
	HeaderOriginalPartition = "idemq-original-partition"
	HeaderOriginalOffset    = "idemq-original-offset"
	HeaderIdempotencyKey    = "idemq-idempotency-key"
	// HeaderError holds the error that sent the record there, cut to
	// MaxErrorHeader bytes, and shorter if the dead letter would not fit the
	// client's ProducerBatchMaxBytes otherwise (a cut ends in "...").
	HeaderError = "idemq-error"
)

// MaxErrorHeader bounds the HeaderError of a dead letter, in bytes.
const MaxErrorHeader = 4 << 10

// deadLetterFunc is the engine's dead-letter sink on cl (nil: none). A
// write that can never succeed - the record too large, the topic unknown
// or not authorised - is permanent: the consumer stops instead of retrying
// it for ever. Any other failure is retried with backoff.
func deadLetterFunc(cl *kgo.Client, topic string) func(ctx context.Context, r *kgo.Record, key string, cause error) error {
	if cl == nil {
		return nil
	}
	limit := int64(cl.OptValue(kgo.ProducerBatchMaxBytes).(int32))
	return func(ctx context.Context, r *kgo.Record, key string, cause error) error {
		err := cl.ProduceSync(ctx, deadLetterRecord(r, topic, key, cause, limit)).FirstErr()
		if err == nil {
			return nil
		}
		err = fmt.Errorf("idemqfranz: writing the dead letter to %q: %w (the record failed with: %v)", topic, err, cause)
		if permanent(err) {
			return errors.Join(consume.ErrPermanent, err)
		}
		return err
	}
}

// permanent reports a dead-letter write error that retrying cannot mend.
func permanent(err error) bool {
	for _, e := range []error{kerr.MessageTooLarge, kerr.RecordListTooLarge, kerr.UnknownTopicOrPartition,
		kerr.InvalidTopicException, kerr.TopicAuthorizationFailed, kerr.ClusterAuthorizationFailed,
		kerr.SaslAuthenticationFailed, kerr.InvalidRequiredAcks, kerr.InvalidRecord} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// deadLetterRecord is the original record with headers saying where it came
// from and why it failed, the error cut to fit limit bytes in all.
func deadLetterRecord(r *kgo.Record, topic, key string, cause error, limit int64) *kgo.Record {
	headers := make([]kgo.RecordHeader, 0, len(r.Headers)+5)
	headers = append(headers, r.Headers...)
	headers = append(headers,
		kgo.RecordHeader{Key: HeaderOriginalTopic, Value: []byte(r.Topic)},
		kgo.RecordHeader{Key: HeaderOriginalPartition, Value: []byte(strconv.Itoa(int(r.Partition)))},
		kgo.RecordHeader{Key: HeaderOriginalOffset, Value: []byte(strconv.FormatInt(r.Offset, 10))},
		kgo.RecordHeader{Key: HeaderIdempotencyKey, Value: []byte(key)},
		kgo.RecordHeader{Key: HeaderError},
	)
	dl := &kgo.Record{Topic: topic, Key: r.Key, Value: r.Value, Headers: headers, Timestamp: r.Timestamp}
	room := min(int64(MaxErrorHeader), limit-sizeOf(dl))
	headers[len(headers)-1].Value = cut(cause.Error(), room)
	return dl
}

// cut returns s, or its first bytes and "..." to fit n bytes (none if n <= 3).
func cut(s string, n int64) []byte {
	switch {
	case int64(len(s)) <= n:
		return []byte(s)
	case n <= 3:
		return nil
	}
	return []byte(s[:n-3] + "...")
}

// sizeOf bounds the bytes a record takes in a batch of its own: the batch
// header (61), and the record with every varint at its longest.
func sizeOf(r *kgo.Record) int64 {
	n := int64(61+5+1+10+5+5+5+5) + int64(len(r.Key)) + int64(len(r.Value))
	for _, h := range r.Headers {
		n += int64(len(h.Key)+len(h.Value)) + 10
	}
	return n
}

// checkDeadLetter refuses a dead-letter client whose writes could never be
// acknowledged, or that could not write outside a transaction.
func checkDeadLetter(cl *kgo.Client, topic string) error {
	switch {
	case cl == nil && topic != "":
		return invalid("DeadLetterTopic", "is set but DeadLetter is nil")
	case cl == nil:
		return nil
	case topic == "":
		return invalid("DeadLetterTopic", "is empty")
	case cl.OptValue(kgo.RequiredAcks) == kgo.NoAck():
		return invalid("DeadLetter", "has RequiredAcks(NoAck()): its writes are never acknowledged")
	case cl.OptValues(kgo.TransactionalID)[1] == true:
		return invalid("DeadLetter", "is transactional: it cannot write outside a transaction")
	}
	return nil
}
