package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kgo"

	idemqfranz "github.com/idemq/idemq/adapters/franz"
	"github.com/idemq/idemq/dedupe"
)

// This file is adapters.go and pgadapters.go for idemq's franz-go adapter
// (idemqfranz): its own group on its own topic, since franz-go's
// cooperative-sticky members and kafka-go's eager ones cannot share a
// group.

// runFranz consumes with idemqfranz on the journaled Redis guard, every
// option at its default (claim-first, 30s lease, batches of 500,
// ByPartition, 30s drain, the cooperative-sticky balancer) except the
// group timings, as runKafka.
func runFranz(ctx context.Context, w workerConfig, client redis.UniversalClient, fx *handler, logger *slog.Logger) error {
	store, closeStore, err := newStore(client, w.Prefix, fx.j, nil)
	if err != nil {
		return err
	}
	defer closeStore()
	return consumeFranz(ctx, w, idemqfranz.Config[string]{Store: store}, fx.handle, fx.j, logger)
}

// runFranzTx is runFranz on the transactional store (Config.TxStore).
func runFranzTx(ctx context.Context, w workerConfig, store dedupe.TxStore, fx *pgHandler, logger *slog.Logger) error {
	return consumeFranz(ctx, w, idemqfranz.Config[string]{TxStore: store}, fx.handle, fx.j, logger)
}

// consumeFranz completes cfg (its store set) and runs the consumer until
// ctx ends. The committed value is the instance's name; dead letters go
// through a kgo producer of their own, also behind the fault proxy.
func consumeFranz(ctx context.Context, w workerConfig, cfg idemqfranz.Config[string], handle func(context.Context, string) error,
	j *journal, logger *slog.Logger) error {
	dlt, err := kgo.NewClient(kgo.SeedBrokers(w.Brokers), kgo.ClientID(w.Instance+"-dlt"))
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	defer dlt.Close()
	key := idemqfranz.HeaderKey(keyHeader)
	cfg.Group, cfg.Topics, cfg.Client, cfg.KeyFunc = w.Group, []string{w.Topic}, franzOpts(w), key
	cfg.Handle = func(ctx context.Context, r *kgo.Record, end dedupe.End[string]) error {
		k, _ := key(r) // the adapter checked it
		if err := handle(ctx, k); err != nil {
			return err
		}
		end(w.Instance)
		return nil
	}
	cfg.OnDuplicate = func(_ context.Context, r *kgo.Record, _ string) error {
		k, _ := key(r)
		j.log(evDuplicate, k)
		return nil
	}
	cfg.DeadLetter, cfg.DeadLetterTopic, cfg.Logger = dlt, w.DLT, logger
	c, err := idemqfranz.NewConsumer(cfg)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	stop := reportStats(j, func() string { return franzStats(c.Stats()) })
	defer stop()
	return c.Run(ctx)
}

// franzOpts are a franz-go member's client options: the group timings of
// readerConfig and saramaConfig, and static membership (InstanceID, the
// member's name, kept across its incarnations) for every other member, f1,
// f3, ...: a static member killed or stopped and started again within the
// session timeout gets its partitions back without a rebalance, while a
// dynamic one's move to the others by a cooperative rebalance, and back.
func franzOpts(w workerConfig) []kgo.Opt {
	opts := []kgo.Opt{
		kgo.SeedBrokers(w.Brokers),
		kgo.ClientID(w.Instance),
		kgo.DialTimeout(10 * time.Second),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchMaxWait(maxWait),
		kgo.HeartbeatInterval(heartbeatInterval),
		kgo.SessionTimeout(sessionTimeout),
		kgo.RebalanceTimeout(rebalanceTimeout),
	}
	if member, _, _ := strings.Cut(w.Instance, "."); staticMember(member) {
		opts = append(opts, kgo.InstanceID(member))
	}
	return opts
}

// staticMember reports whether the franz-go member of that name ("f1")
// joins with an InstanceID: the odd-numbered ones.
func staticMember(member string) bool {
	n, err := strconv.Atoi(strings.TrimPrefix(member, "f"))
	return err == nil && n%2 == 1
}

// franzStats is the consumer's counters as one journal field.
func franzStats(s idemqfranz.Stats) string {
	return strings.Join([]string{
		"processed=" + itoa(s.Processed), "duplicates=" + itoa(s.Duplicates),
		"conflicts=" + itoa(s.InFlightConflicts), "retries=" + itoa(s.Retries),
		"deadlettered=" + itoa(s.DeadLettered), "offsetcommits=" + itoa(s.OffsetCommits),
		"roundtrips=" + itoa(s.GuardRoundTrips), "storeerrors=" + itoa(s.StoreErrors),
		"assigned=" + itoa(s.PartitionsAssigned), "revoked=" + itoa(s.PartitionsRevoked),
		"lost=" + itoa(s.PartitionsLost),
	}, ",")
}
