package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/internal/kafkaadmin"
)

// kafkaCluster is the broker of IDEMQ_KAFKA_BROKERS, with the topics and
// groups this run created (deleted by close).
type kafkaCluster struct {
	brokers   []string
	runID     string
	transport *kafkago.Transport
	client    *kafkago.Client
	fresh     topic // every message a new key
	dups      topic // 20% repeat an earlier message's key
	keyed     topic // fresh keys, and Kafka message keys: the rows whose handler does I/O

	mu     sync.Mutex
	topics []string
	groups []string
}

func dialKafka(ctx context.Context, runID string) (*kafkaCluster, error) {
	brokers, err := addrsFromEnv("IDEMQ_KAFKA_BROKERS")
	if err != nil {
		return nil, err
	}
	transport := &kafkago.Transport{}
	k := &kafkaCluster{brokers: brokers, runID: runID, transport: transport,
		client: &kafkago.Client{Addr: kafkago.TCP(brokers...), Transport: transport, Timeout: 30 * time.Second}}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := k.client.Metadata(ctx, &kafkago.MetadataRequest{}); err != nil {
		transport.CloseIdleConnections()
		return nil, fmt.Errorf("kafka at %s (IDEMQ_KAFKA_BROKERS): %w; is `make services` running?", brokers[0], err)
	}
	return k, nil
}

// group returns a fresh consumer-group name for one round of one row; close
// deletes it.
func (k *kafkaCluster) group(row string, round int) string {
	g := "idemqbench-" + k.runID + "-" + strings.ReplaceAll(row, "/", "-") + "-" + strconv.Itoa(round)
	k.mu.Lock()
	k.groups = append(k.groups, g)
	k.mu.Unlock()
	return g
}

// readerConfig is the consumer-group configuration of every kafka-go row:
// the settings of internal/testenv's ReaderConfig (fast joins and Close on
// one broker), MaxBytes 10 MiB and MaxWait 250ms.
func (k *kafkaCluster) readerConfig(topic, group string) kafkago.ReaderConfig {
	return kafkago.ReaderConfig{
		Brokers:           k.brokers,
		Topic:             topic,
		GroupID:           group,
		MinBytes:          1,
		MaxBytes:          10 << 20,
		MaxWait:           250 * time.Millisecond,
		HeartbeatInterval: 100 * time.Millisecond,
		SessionTimeout:    6 * time.Second,
		RebalanceTimeout:  2 * time.Second,
		JoinGroupBackoff:  100 * time.Millisecond,
		StartOffset:       kafkago.FirstOffset,
	}
}

// close deletes the run's groups and topics and closes the connections.
func (k *kafkaCluster) close(ctx context.Context) error {
	defer k.transport.CloseIdleConnections()
	return kafkaadmin.Remove(ctx, k.client, k.topics, k.groups)
}

// kafkaVersion reads the broker's version from its log (IDEMQ_KAFKA_LOG,
// set by scripts/services.sh): a broker does not report its version on the
// wire.
func kafkaVersion() string {
	f, err := os.Open(os.Getenv("IDEMQ_KAFKA_LOG"))
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if _, v, ok := strings.Cut(sc.Text(), "Kafka version: "); ok {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
