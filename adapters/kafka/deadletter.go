package kafka

import (
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

// invalidKey applies Config.InvalidKey to a job without a valid key
// (KeyProcess jobs never get here: they run without a key).
func (p *pipeline[V]) invalidKey(sc *scope[V], j *job[V]) (bool, error) {
	if p.cfg.InvalidKey == KeyDeadLetter {
		return p.deadLetter(sc, j, j.keyErr, 0)
	}
	return false, messageError(j, j.keyErr, 0)
}

// deadLetter writes the job to the dead-letter topic, retrying until the
// write is acknowledged or the scope stops, and finishes it. Without a
// dead-letter topic it returns the *MessageError that stops the consumer.
func (p *pipeline[V]) deadLetter(sc *scope[V], j *job[V], cause error, attempts int) (bool, error) {
	if p.cfg.DeadLetter == nil {
		return false, messageError(j, cause, attempts)
	}
	msg := deadLetterMessage(j, cause)
	for n := 0; ; n++ {
		err := p.cfg.DeadLetter.WriteMessages(sc.work, msg)
		if err == nil {
			p.log.Info("kafka: message dead-lettered", msgAttrs(j.msg), "key", j.key, "cause", cause)
			p.finish(sc, j, DeadLettered)
			return true, nil
		}
		p.log.Warn("kafka: dead-letter write failed; retrying", msgAttrs(j.msg), "err", err)
		if !sleep(sc.stop, p.cfg.Backoff.delay(n)) {
			return false, nil
		}
	}
}

func messageError[V any](j *job[V], err error, attempts int) *MessageError {
	return &MessageError{Topic: j.msg.Topic, Partition: j.msg.Partition, Offset: j.msg.Offset,
		Key: j.key, Attempts: attempts, Err: err}
}

// deadLetterMessage is the original message with headers saying where it
// came from and why it failed.
func deadLetterMessage[V any](j *job[V], cause error) kafkago.Message {
	m := j.msg
	headers := make([]kafkago.Header, 0, len(m.Headers)+5)
	headers = append(headers, m.Headers...)
	headers = append(headers,
		kafkago.Header{Key: HeaderOriginalTopic, Value: []byte(m.Topic)},
		kafkago.Header{Key: HeaderOriginalPartition, Value: []byte(strconv.Itoa(m.Partition))},
		kafkago.Header{Key: HeaderOriginalOffset, Value: []byte(strconv.FormatInt(m.Offset, 10))},
		kafkago.Header{Key: HeaderIdempotencyKey, Value: []byte(j.key)},
		kafkago.Header{Key: HeaderError, Value: []byte(cause.Error())},
	)
	return kafkago.Message{Key: m.Key, Value: m.Value, Headers: headers, Time: m.Time}
}
