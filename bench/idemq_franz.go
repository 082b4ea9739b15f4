package main

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	idemqfranz "github.com/idemq/idemq/adapters/franz"
	"github.com/idemq/idemq/dedupe"
)

// Names of the franz-go rows the targets refer to.
const (
	franzRow          = "kafka/franz-go"
	franzNullStoreRow = "kafka/idemq-franz-nullstore"
	franzValkeyRow    = "kafka/idemq-franz-valkey"
)

// idemqFranzRows are the idemq consumer on franz-go (idemqfranz) on the
// do-nothing store, Redis and Valkey, in the Kafka section beside the
// kafka-go consumer's rows; their ratio column is to the same baseline.
func idemqFranzRows() []*row {
	f := func(name, note string, needs need, srv func(*services) *server, floor string, kind storeKind) *row {
		return &row{name: name, section: sectionKafka, unit: "msgs/s", needs: needKafka | needs, server: srv,
			baseline: rawGroupRow, floor: floor, note: note, run: idemqFranzRun(kind)}
	}
	return []*row{
		f(franzNullStoreRow, "idemqfranz consumer (franz-go) on a store that does nothing", 0, nil, "", nullStoreKind),
		f("kafka/idemq-franz-redis", "idemqfranz consumer on Redis, claim-first, fresh keys", needRedis, onRedis,
			floorName("redis", floorDepth), serverStoreKind),
		f(franzValkeyRow, "idemqfranz consumer on Valkey, claim-first, fresh keys", needValkey, onValkey,
			floorName("valkey", floorDepth), serverStoreKind),
	}
}

// franzGroupOpts are the client options of every franz-go row: the group
// timings of the kafka-go rows (readerConfig), fetches that wait at most
// 250ms and take up to 10 MiB per partition, the topic read from its start.
// The balancer is franz-go's default, cooperative-sticky.
func franzGroupOpts(k *kafkaCluster) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(k.brokers...),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(250 * time.Millisecond),
		kgo.FetchMaxPartitionBytes(10 << 20),
		kgo.SessionTimeout(6 * time.Second),
		kgo.HeartbeatInterval(100 * time.Millisecond),
		kgo.RebalanceTimeout(2 * time.Second),
	}
}

// idemqFranzRun consumes the fresh topic with an idemqfranz consumer with
// default settings, as idemqRun does with idemqkafka: a handler that calls
// end(struct{}{}), an OnDuplicate that counts, timed from Run to the last
// final outcome; then Run is cancelled and must return nil.
func idemqFranzRun(kind storeKind) runFunc {
	return func(ctx context.Context, env *services, rr rowRound) (timed, error) {
		k := env.kafka
		store, err := newStore(kind, rr)
		if err != nil {
			return timed{}, err
		}
		defer store.Close()
		out := &outcomes{want: int64(k.fresh.messages), done: make(chan struct{})}
		c, err := idemqfranz.NewConsumer(idemqfranz.Config[struct{}]{
			Group:   k.group(rr.row, rr.round),
			Topics:  []string{k.fresh.name},
			Client:  franzGroupOpts(k),
			Store:   store,
			KeyFunc: idemqfranz.HeaderKey(keyHeader),
			Handle: func(ctx context.Context, _ *kgo.Record, end dedupe.End[struct{}]) error {
				end(struct{}{})
				out.add()
				return nil
			},
			OnDuplicate: func(context.Context, *kgo.Record, struct{}) error { out.add(); return nil },
		})
		if err != nil {
			return timed{}, err
		}
		return runConsumer(ctx, c, out, k.fresh.messages)
	}
}
