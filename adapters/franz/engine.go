package idemqfranz

import (
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/consume"
)

// newEngine returns the consumer engine for cfg (defaults applied).
func newEngine[V any](cfg *Config[V], m *metrics) (*consume.Engine[*kgo.Record, V], error) {
	var guard []dedupe.BatchOption
	if cfg.TxStore == nil {
		guard = append(cfg.Guard.BatchOptions(), dedupe.WithCodec(cfg.Codec))
	}
	return consume.New(consume.Config[*kgo.Record, V]{
		Name:         pkg,
		Store:        cfg.Store,
		Guard:        guard,
		Tx:           cfg.TxStore,
		Codec:        cfg.Codec,
		Log:          recordLog{},
		Key:          cfg.KeyFunc,
		Fingerprint:  cfg.FingerprintFunc,
		Handle:       cfg.Handle,
		OnDuplicate:  cfg.OnDuplicate,
		DeadLetter:   deadLetterFunc(cfg.DeadLetter, cfg.DeadLetterTopic),
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

// recordLog describes franz-go records to the engine.
type recordLog struct{}

func (recordLog) Offset(r *kgo.Record) int64    { return r.Offset }
func (recordLog) OrderKey(r *kgo.Record) []byte { return r.Key }
func (recordLog) Attrs(r *kgo.Record) slog.Attr {
	return slog.Group("record", "topic", r.Topic, "partition", r.Partition, "offset", r.Offset)
}

func messageError(r *kgo.Record, key string, attempts int, err error) error {
	return &MessageError{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Key: key, Attempts: attempts, Err: err}
}
