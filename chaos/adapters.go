package main

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill"
	wkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	wmessage "github.com/ThreeDotsLabs/watermill/message"
	"github.com/rcrowley/go-metrics"
	"github.com/redis/go-redis/v9"
	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/dedupe"
)

// This file holds what touches idemq's kafka-go and Watermill adapters (and
// franz.go the franz-go adapter, pgadapters.go their transactional form):
// a rename there is a change here only (guard.go holds the dedupe side).

// Consumer-group timings of every role: a member that stops heartbeating is
// dropped after sessionTimeout, as in issue 14's first report.
const (
	heartbeatInterval = 200 * time.Millisecond
	sessionTimeout    = 6 * time.Second
	rebalanceTimeout  = 5 * time.Second
	maxWait           = 250 * time.Millisecond
)

// runKafka consumes with idemq's Kafka adapter, every option at its default
// (claim-first, 30s lease, batches of 500, ByPartition, 30s drain) except
// the group timings. The committed value is the instance's name.
func runKafka(ctx context.Context, w workerConfig, client redis.UniversalClient, fx *handler, logger *slog.Logger) error {
	store, closeStore, err := newStore(client, w.Prefix, fx.j, nil)
	if err != nil {
		return err
	}
	defer closeStore()
	transport := &kafkago.Transport{ClientID: w.Instance}
	defer transport.CloseIdleConnections()
	dlt := &kafkago.Writer{Addr: kafkago.TCP(w.Brokers), Topic: w.DLT, RequiredAcks: kafkago.RequireAll,
		BatchTimeout: time.Millisecond, Transport: transport}
	defer dlt.Close()
	key := idemqkafka.HeaderKey(keyHeader)
	c, err := idemqkafka.NewConsumer(idemqkafka.Config[string]{
		Reader:  readerConfig(w),
		Store:   store,
		KeyFunc: key,
		Handle: func(ctx context.Context, m kafkago.Message, end dedupe.End[string]) error {
			k, _ := key(m) // the adapter checked it
			if err := fx.handle(ctx, k); err != nil {
				return err
			}
			end(w.Instance)
			return nil
		},
		OnDuplicate: func(_ context.Context, m kafkago.Message, _ string) error {
			k, _ := key(m)
			fx.j.log(evDuplicate, k)
			return nil
		},
		DeadLetter: dlt,
		Logger:     logger,
	})
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	stop := reportStats(fx.j, func() string { return kafkaStats(c.Stats()) })
	defer stop()
	return c.Run(ctx)
}

func readerConfig(w workerConfig) kafkago.ReaderConfig {
	return kafkago.ReaderConfig{
		Brokers:           []string{w.Brokers},
		GroupID:           w.Group,
		Topic:             w.Topic,
		Dialer:            &kafkago.Dialer{ClientID: w.Instance, Timeout: 10 * time.Second},
		MinBytes:          1,
		MaxWait:           maxWait,
		HeartbeatInterval: heartbeatInterval,
		SessionTimeout:    sessionTimeout,
		RebalanceTimeout:  rebalanceTimeout,
		JoinGroupBackoff:  250 * time.Millisecond,
		StartOffset:       kafkago.FirstOffset,
	}
}

// kafkaStats is the consumer's counters as one journal field.
func kafkaStats(s idemqkafka.Stats) string {
	return strings.Join([]string{
		"processed=" + itoa(s.Processed), "duplicates=" + itoa(s.Duplicates),
		"conflicts=" + itoa(s.InFlightConflicts), "retries=" + itoa(s.Retries),
		"deadlettered=" + itoa(s.DeadLettered), "offsetcommits=" + itoa(s.OffsetCommits),
		"roundtrips=" + itoa(s.GuardRoundTrips), "storeerrors=" + itoa(s.StoreErrors),
		"generations=" + itoa(s.Generations),
	}, ",")
}

// The Watermill routers' handler name and the guard's scope: both routers
// register the same.
const (
	wmHandler = "charge"
	wmScope   = "chaos"
)

// Sarama records metrics nobody reads, in a goroutine that never ends.
func init() { metrics.UseNilMetrics = true }

// runWatermill consumes with a Watermill router (watermill-kafka, Sarama)
// whose handler runs behind idemq's middleware at its defaults (claim-first,
// 30s lease) with an explicit Scope.
func runWatermill(ctx context.Context, w workerConfig, client redis.UniversalClient, fx *handler, logger *slog.Logger) error {
	store, closeStore, err := newStore(client, w.Prefix, fx.j, wmKey)
	if err != nil {
		return err
	}
	defer closeStore()
	dedup, err := idemqwatermill.New(store, wmConfig(fx.j, logger))
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	return runRouter(ctx, w, dedup, fx.handle, logger)
}

// wmConfig is the middleware's Config of the routers on either store: an
// explicit Scope, and OnDuplicate journals the duplicate.
func wmConfig(j *journal, logger *slog.Logger) idemqwatermill.Config {
	return idemqwatermill.Config{
		Scope: wmScope,
		OnDuplicate: func(msg *wmessage.Message, _ []*wmessage.Message) error {
			j.log(evDuplicate, msg.Metadata.Get(keyHeader))
			return nil
		},
		Logger: logger,
	}
}

// runRouter runs a router that consumes the worker's topic with dedup's
// middleware around handle, until ctx ends.
func runRouter(ctx context.Context, w workerConfig, dedup *idemqwatermill.Deduplicator, handle func(ctx context.Context, key string) error, logger *slog.Logger) error {
	wlog := watermill.LoggerAdapter(watermill.NopLogger{})
	if w.Verbose {
		wlog = watermill.NewSlogLogger(logger)
	}
	sub, err := wkafka.NewSubscriber(wkafka.SubscriberConfig{
		Brokers: []string{w.Brokers}, Unmarshaler: wkafka.DefaultMarshaler{}, ConsumerGroup: w.Group,
		OverwriteSaramaConfig: saramaConfig(w), NackResendSleep: 50 * time.Millisecond,
		ReconnectRetrySleep: 250 * time.Millisecond,
	}, wlog)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	router, err := wmessage.NewRouter(wmessage.RouterConfig{CloseTimeout: 30 * time.Second}, wlog)
	if err != nil {
		return fmt.Errorf("chaos: %w", err)
	}
	router.AddMiddleware(dedup.Middleware)
	router.AddConsumerHandler(wmHandler, w.Topic, sub, func(msg *wmessage.Message) error {
		return handle(msg.Context(), msg.Metadata.Get(keyHeader))
	})
	return router.Run(ctx) // closes the subscriber when ctx ends
}

// wmKey is the message key of a store key of the middleware, whose format
// the package documents: "handler:<len(scope)>:<scope>:<key>".
func wmKey(storeKey string) string {
	return strings.TrimPrefix(storeKey, "handler:"+strconv.Itoa(len(wmScope))+":"+wmScope+":")
}

// wmStoreKey is the store key of a report key: the middleware's for the
// Watermill topic's keys, the key itself for the Kafka adapter's.
func wmStoreKey(key string) string {
	if !strings.HasPrefix(key, wmKeyPrefix) {
		return key
	}
	return "handler:" + strconv.Itoa(len(wmScope)) + ":" + wmScope + ":" + key
}

func saramaConfig(w workerConfig) *sarama.Config {
	c := wkafka.DefaultSaramaSubscriberConfig()
	c.ClientID = w.Instance
	c.Net.DialTimeout, c.Net.ReadTimeout, c.Net.WriteTimeout = 5*time.Second, 10*time.Second, 10*time.Second
	c.Metadata.Retry.Backoff = 250 * time.Millisecond
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.MaxWaitTime = maxWait
	c.Consumer.Group.Heartbeat.Interval = heartbeatInterval
	c.Consumer.Group.Session.Timeout = sessionTimeout
	c.Consumer.Group.Rebalance.Timeout = rebalanceTimeout
	c.Consumer.Group.Rebalance.Retry.Backoff = 250 * time.Millisecond
	return c
}

func itoa[T int | int64](n T) string { return strconv.FormatInt(int64(n), 10) }
