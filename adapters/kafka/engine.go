package idemqkafka

import (
	"log/slog"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/consume"
)

// newEngine returns the consumer engine for cfg (defaults applied).
func newEngine[V any](cfg *Config[V], m *metrics) (*consume.Engine[kafkago.Message, V], error) {
	var guard []dedupe.BatchOption
	if cfg.TxStore == nil {
		guard = guardOptions(cfg)
	}
	return consume.New(consume.Config[kafkago.Message, V]{
		Name:         "idemqkafka",
		Store:        cfg.Store,
		Guard:        guard,
		Tx:           cfg.TxStore,
		Codec:        cfg.Codec,
		Log:          kafkaLog{},
		Key:          cfg.KeyFunc,
		Fingerprint:  cfg.FingerprintFunc,
		Handle:       cfg.Handle,
		OnDuplicate:  cfg.OnDuplicate,
		DeadLetter:   deadLetterFunc(cfg.DeadLetter),
		MessageError: messageError,
		InvalidKey:   cfg.InvalidKey,
		Ordering:     cfg.Ordering,
		MaxInFlight:  cfg.MaxInFlight,
		Attempts:     cfg.Attempts,
		Backoff:      cfg.Backoff,
		ClaimTimeout: max(cfg.Guard.Lease/2, time.Second),
		Logger:       cfg.Logger,
		Metrics:      m.Engine(),
	})
}

// guardOptions are the dedupe.Batch options of cfg's guard.
func guardOptions[V any](cfg *Config[V]) []dedupe.BatchOption {
	return append(cfg.Guard.BatchOptions(), dedupe.WithCodec(cfg.Codec))
}

// kafkaLog describes kafka-go messages to the engine.
type kafkaLog struct{}

func (kafkaLog) Offset(m kafkago.Message) int64    { return m.Offset }
func (kafkaLog) OrderKey(m kafkago.Message) []byte { return m.Key }
func (kafkaLog) Attrs(m kafkago.Message) slog.Attr { return msgAttrs(m) }

func msgAttrs(m kafkago.Message) slog.Attr {
	return slog.Group("message", "topic", m.Topic, "partition", m.Partition, "offset", m.Offset)
}
