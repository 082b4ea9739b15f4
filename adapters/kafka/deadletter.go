package idemqkafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/internal/consume"
)

// Headers added to a dead-lettered message, after its own headers.
const (
	HeaderOriginalTopic     = "idemq-original-topic"
	HeaderOriginalPartition = "idemq-original-partition"
	HeaderOriginalOffset    = "idemq-original-offset"
	HeaderIdempotencyKey    = "idemq-idempotency-key"
	// HeaderError holds the error that sent the message there, cut to
	// MaxErrorHeader bytes, and shorter if the dead letter would not fit the
	// writer's BatchBytes otherwise (a cut ends in "..."): a dead letter is
	// too large only when the original message is.
	HeaderError = "idemq-error"
)

// MaxErrorHeader bounds the HeaderError of a dead letter, in bytes.
const MaxErrorHeader = 4 << 10

// deadLetterFunc is the engine's dead-letter sink on w (nil: none). A write
// that can never succeed - the message is too large, the topic unknown or
// not authorised - is a permanent error: the consumer stops instead of
// retrying it for ever. Any other failure is retried with backoff.
func deadLetterFunc(w *kafkago.Writer) func(ctx context.Context, m kafkago.Message, key string, cause error) error {
	if w == nil {
		return nil
	}
	return func(ctx context.Context, m kafkago.Message, key string, cause error) error {
		err := w.WriteMessages(ctx, deadLetterMessage(m, key, cause, batchBytes(w)))
		if err == nil {
			return nil
		}
		err = fmt.Errorf("idemqkafka: writing the dead letter to %q: %w (the message failed with: %v)", w.Topic, err, cause)
		if permanent(err) {
			return errors.Join(consume.ErrPermanent, err)
		}
		return err
	}
}

// permanent reports a dead-letter write error that retrying cannot mend.
func permanent(err error) bool {
	var tooLarge kafkago.MessageTooLargeError
	if errors.As(err, &tooLarge) {
		return true
	}
	var writeErrs kafkago.WriteErrors
	if errors.As(err, &writeErrs) {
		for _, e := range writeErrs {
			if e != nil && permanent(e) {
				return true
			}
		}
	}
	var code kafkago.Error
	if errors.As(err, &code) {
		switch code {
		case kafkago.MessageSizeTooLarge, kafkago.RecordListTooLarge, kafkago.UnknownTopicOrPartition,
			kafkago.InvalidTopic, kafkago.TopicAuthorizationFailed, kafkago.ClusterAuthorizationFailed,
			kafkago.SASLAuthenticationFailed, kafkago.InvalidRequiredAcks, kafkago.InvalidRecord:
			return true
		}
	}
	return false
}

func messageError(m kafkago.Message, key string, attempts int, err error) error {
	return &MessageError{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Key: key, Attempts: attempts, Err: err}
}

// deadLetterMessage is the original message with headers saying where it
// came from and why it failed, the error cut to fit limit bytes in all.
func deadLetterMessage(m kafkago.Message, key string, cause error, limit int64) kafkago.Message {
	headers := make([]kafkago.Header, 0, len(m.Headers)+5)
	headers = append(headers, m.Headers...)
	headers = append(headers,
		kafkago.Header{Key: HeaderOriginalTopic, Value: []byte(m.Topic)},
		kafkago.Header{Key: HeaderOriginalPartition, Value: []byte(strconv.Itoa(m.Partition))},
		kafkago.Header{Key: HeaderOriginalOffset, Value: []byte(strconv.FormatInt(m.Offset, 10))},
		kafkago.Header{Key: HeaderIdempotencyKey, Value: []byte(key)},
		kafkago.Header{Key: HeaderError},
	)
	dl := kafkago.Message{Key: m.Key, Value: m.Value, Headers: headers, Time: m.Time}
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

// sizeOf bounds the size kafka-go counts for m against a writer's
// BatchBytes (Message.totalSize, with every varint at its longest).
func sizeOf(m kafkago.Message) int64 {
	n := int64(4+1+1+8+5+5) + int64(len(m.Key)) + int64(len(m.Value)) + 5
	for _, h := range m.Headers {
		n += int64(len(h.Key)+len(h.Value)) + 10
	}
	return n
}

// batchBytes is the writer's limit on one message, as kafka-go applies it.
func batchBytes(w *kafkago.Writer) int64 { return orDefault(w.BatchBytes, 1<<20) }

// checkWriter refuses a dead-letter writer that could never acknowledge a
// write, or whose settings kafka-go would misread.
func checkWriter(w *kafkago.Writer) error {
	if w == nil {
		return nil
	}
	durations := []struct {
		field string
		d     time.Duration
	}{
		{"BatchTimeout", w.BatchTimeout}, {"ReadTimeout", w.ReadTimeout}, {"WriteTimeout", w.WriteTimeout},
		{"WriteBackoffMin", w.WriteBackoffMin}, {"WriteBackoffMax", w.WriteBackoffMax},
	}
	for _, d := range durations {
		if d.d < 0 {
			return invalid("DeadLetter."+d.field, "is negative")
		}
	}
	switch {
	case w.Addr == nil:
		return invalid("DeadLetter.Addr", "is nil: the writer has no broker to write to")
	case w.Topic == "":
		return invalid("DeadLetter.Topic", "is empty")
	case w.Async:
		return invalid("DeadLetter.Async", "is set: its writes are never acknowledged")
	case w.RequiredAcks == kafkago.RequireNone:
		return invalid("DeadLetter.RequiredAcks", "is RequireNone: set RequireAll (or RequireOne)")
	case w.RequiredAcks < kafkago.RequireAll || w.RequiredAcks > kafkago.RequireOne:
		return invalid("DeadLetter.RequiredAcks", "is %d: want RequireAll or RequireOne", w.RequiredAcks)
	case w.BatchBytes < 0, w.BatchSize < 0, w.MaxAttempts < 0:
		return invalid("DeadLetter", "BatchBytes, BatchSize and MaxAttempts must be >= 0")
	case w.Compression < 0 || w.Compression > kafkago.Zstd:
		return invalid("DeadLetter.Compression", "is %d: unknown codec", w.Compression)
	case w.WriteBackoffMax != 0 && w.WriteBackoffMax < w.WriteBackoffMin:
		return invalid("DeadLetter.WriteBackoffMax", "is below WriteBackoffMin")
	}
	return nil
}
