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
	var guard []dedupe.RunOption
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
		InvalidKey:   consume.KeyPolicy(cfg.InvalidKey),
		Ordering:     consume.Ordering(cfg.Ordering),
		MaxInFlight:  cfg.MaxInFlight,
		Attempts:     cfg.Attempts,
		Backoff:      consume.Backoff(cfg.Backoff),
		ClaimTimeout: max(cfg.Lease/2, time.Second),
		Logger:       cfg.Logger,
		Metrics:      m.engine(),
	})
}

// The public enums are the engine's, value for value: an index other than
// 0 is a compile error.
var (
	_ = [1]int{}[consume.KeyReject-consume.KeyPolicy(KeyReject)]
	_ = [1]int{}[consume.KeyProcess-consume.KeyPolicy(KeyProcess)]
	_ = [1]int{}[consume.KeyDeadLetter-consume.KeyPolicy(KeyDeadLetter)]
	_ = [1]int{}[consume.ByPartition-consume.Ordering(ByPartition)]
	_ = [1]int{}[consume.ByKey-consume.Ordering(ByKey)]
	_ = [1]int{}[consume.Unordered-consume.Ordering(Unordered)]
)

// guardOptions are the dedupe.Batch options of cfg's mode.
func guardOptions[V any](cfg *Config[V]) []dedupe.RunOption {
	opts := []dedupe.RunOption{dedupe.WithTTL(cfg.TTL), dedupe.WithCodec(cfg.Codec)}
	if cfg.Optimistic {
		return append(opts, dedupe.WithOptimistic())
	}
	return append(opts, dedupe.WithClaim(cfg.Lease))
}

// kafkaLog describes kafka-go messages to the engine.
type kafkaLog struct{}

func (kafkaLog) Offset(m kafkago.Message) int64    { return m.Offset }
func (kafkaLog) OrderKey(m kafkago.Message) []byte { return m.Key }
func (kafkaLog) Attrs(m kafkago.Message) slog.Attr { return msgAttrs(m) }

func msgAttrs(m kafkago.Message) slog.Attr {
	return slog.Group("message", "topic", m.Topic, "partition", m.Partition, "offset", m.Offset)
}
