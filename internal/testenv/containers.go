package testenv

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/testcontainers/testcontainers-go"
	tckafka "github.com/testcontainers/testcontainers-go/modules/kafka"
	tcredis "github.com/testcontainers/testcontainers-go/modules/redis"
)

// Images used when a Docker engine stands in for an unset variable.
const (
	redisImage = "redis:7.4"
	kafkaImage = "confluentinc/confluent-local:7.5.0"
)

// containers are started at most once per test binary and stopped by Main.
var containers struct {
	mu      sync.Mutex
	redis   []string
	kafka   []string
	started []testcontainers.Container
}

// dockerHealthy reports whether testcontainers can reach a Docker engine.
func dockerHealthy() (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	p, err := testcontainers.ProviderDefault.GetProvider()
	if err != nil {
		return false
	}
	defer p.Close()
	return p.Health(context.Background()) == nil
}

func redisContainer(t testing.TB) []string {
	t.Helper()
	return container(t, &containers.redis, "Redis", "IDEMQ_REDIS_ADDR", func(ctx context.Context) (testcontainers.Container, []string, error) {
		c, err := tcredis.Run(ctx, redisImage)
		if err != nil {
			return c, nil, err
		}
		uri, err := c.ConnectionString(ctx)
		return c, []string{strings.TrimPrefix(uri, "redis://")}, err
	})
}

func kafkaContainer(t testing.TB) []string {
	t.Helper()
	return container(t, &containers.kafka, "Kafka", "IDEMQ_KAFKA_BROKERS", func(ctx context.Context) (testcontainers.Container, []string, error) {
		c, err := tckafka.Run(ctx, kafkaImage)
		if err != nil {
			return c, nil, err
		}
		brokers, err := c.Brokers(ctx)
		return c, brokers, err
	})
}

type runFunc func(context.Context) (testcontainers.Container, []string, error)

func container(t testing.TB, addrs *[]string, service, variable string, run runFunc) []string {
	t.Helper()
	containers.mu.Lock()
	defer containers.mu.Unlock()
	if *addrs != nil {
		return *addrs
	}
	if !dockerHealthy() {
		Missing(t, service, variable, "variable unset and no Docker engine")
	}
	c, got, err := run(context.Background())
	if c != nil {
		containers.started = append(containers.started, c)
	}
	if err != nil {
		Missing(t, service, variable, "starting a container: "+err.Error())
	}
	*addrs = got
	return got
}

func stopContainers() {
	containers.mu.Lock()
	defer containers.mu.Unlock()
	for _, c := range containers.started {
		_ = testcontainers.TerminateContainer(c)
	}
	containers.started = nil
}
