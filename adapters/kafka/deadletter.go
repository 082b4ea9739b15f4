package kafka

import (
	"context"
	"strconv"

	kafkago "github.com/segmentio/kafka-go"
)

// Headers added to a dead-lettered message, after its own headers.
const (
	HeaderOriginalTopic     = "idemq-original-topic"
	HeaderOriginalPartition = "idemq-original-partition"
	HeaderOriginalOffset    = "idemq-original-offset"
	HeaderIdempotencyKey    = "idemq-idempotency-key"
	HeaderError             = "idemq-error"
)

// deadLetterFunc is the engine's dead-letter sink on w (nil: none).
func deadLetterFunc(w *kafkago.Writer) func(ctx context.Context, m kafkago.Message, key string, cause error) error {
	if w == nil {
		return nil
	}
	return func(ctx context.Context, m kafkago.Message, key string, cause error) error {
		return w.WriteMessages(ctx, deadLetterMessage(m, key, cause))
	}
}

func messageError(m kafkago.Message, key string, attempts int, err error) error {
	return &MessageError{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: key, Attempts: attempts, Err: err}
}

// deadLetterMessage is the original message with headers saying where it
// came from and why it failed.
func deadLetterMessage(m kafkago.Message, key string, cause error) kafkago.Message {
	headers := make([]kafkago.Header, 0, len(m.Headers)+5)
	headers = append(headers, m.Headers...)
	headers = append(headers,
		kafkago.Header{Key: HeaderOriginalTopic, Value: []byte(m.Topic)},
		kafkago.Header{Key: HeaderOriginalPartition, Value: []byte(strconv.Itoa(m.Partition))},
		kafkago.Header{Key: HeaderOriginalOffset, Value: []byte(strconv.FormatInt(m.Offset, 10))},
		kafkago.Header{Key: HeaderIdempotencyKey, Value: []byte(key)},
		kafkago.Header{Key: HeaderError, Value: []byte(cause.Error())},
	)
	return kafkago.Message{Key: m.Key, Value: m.Value, Headers: headers, Time: m.Time}
}
