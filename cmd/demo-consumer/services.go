package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	kafkago "github.com/segmentio/kafka-go"

	"github.com/idemq/idemq/internal/redisopt"
)

// go-redis logs by itself, on stderr, the failed dials of a member whose
// connections the crash cut; the consumers report what matters (-v).
func init() { redis.SetLogger(quietRedis{}) }

// quietRedis is a go-redis logger that drops everything.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

// env is the Kafka and Redis a run talks to, in-process or real, and the
// PostgreSQL of -postgres.
type env struct {
	brokers   []string
	redisOpts *redis.UniversalOptions
	redis     redis.UniversalClient // the run's own client: ledgers, cleanup
	admin     *admin
	pg        *pgxpool.Pool   // the run's own pool (-postgres; nil without): tables, counting
	pgConfig  *pgxpool.Config // what the members' pools copy
	kafkaDesc string
	redisDesc string
	pgDesc    string
	log       *slog.Logger
	closers   []func() // in reverse order by close
}

// openEnv connects to the services of cfg, starting in-process ones for
// those not given.
func openEnv(ctx context.Context, cfg config) (e *env, err error) {
	e = &env{brokers: cfg.brokerList(), log: cfg.Logger}
	if e.log == nil { // silent: the adapters' nil Logger would mean slog.Default
		e.log = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	if err := e.openKafka(ctx); err != nil {
		return e, err
	}
	if err := e.openRedis(ctx, cfg.Redis); err != nil {
		return e, err
	}
	if cfg.Postgres == "" {
		return e, nil
	}
	return e, e.openPostgres(ctx, cfg.Postgres)
}

func (e *env) openKafka(ctx context.Context) error {
	e.kafkaDesc = strings.Join(e.brokers, ",")
	if len(e.brokers) == 0 {
		addrs, stop, err := startKafka()
		if err != nil {
			return err
		}
		e.closers = append(e.closers, stop)
		e.brokers, e.kafkaDesc = addrs, "in-process (kfake) at "+addrs[0]
	}
	e.admin = newAdmin(e.brokers)
	e.closers = append(e.closers, e.admin.close)
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := e.admin.client.Metadata(ctx, &kafkago.MetadataRequest{}); err != nil {
		return fmt.Errorf("demo: Kafka at %s does not answer: %w", e.kafkaDesc, err)
	}
	return nil
}

func (e *env) openRedis(ctx context.Context, addr string) error {
	e.redisDesc = addr
	if addr == "" {
		a, stop, err := startRedis()
		if err != nil {
			return err
		}
		e.closers = append(e.closers, stop)
		addr, e.redisDesc = a, "in-process (miniredis) at "+a
	}
	opts, err := redisOptions(addr)
	if err != nil {
		return err
	}
	e.redisOpts, e.redis = opts, redis.NewUniversalClient(opts)
	e.closers = append(e.closers, func() { _ = e.redis.Close() })
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := e.redis.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("demo: Redis at %s does not answer: %w", e.redisDesc, err)
	}
	return nil
}

// redisOptions reads host:port, comma-separated cluster seeds or a
// redis:// or rediss:// URL (see package redisopt).
func redisOptions(addr string) (*redis.UniversalOptions, error) {
	o, err := redisopt.Parse(addr)
	if err != nil {
		return nil, fmt.Errorf("demo: -redis %q: %w", addr, err)
	}
	return o, nil
}

// newRedis returns a client of its own (its own pool and pub/sub
// connection), as a separate process would have, dialling with dial (nil:
// directly).
func (e *env) newRedis(dial func(ctx context.Context, network, addr string) (net.Conn, error)) redis.UniversalClient {
	opts := *e.redisOpts
	opts.Dialer = dial
	return redis.NewUniversalClient(&opts)
}

func (e *env) close() {
	for i := len(e.closers) - 1; i >= 0; i-- {
		e.closers[i]()
	}
	e.closers = nil
}

// deleteKeys removes every key under prefix (on every master of a
// cluster), one pipeline of single-key UNLINKs per SCAN page.
func (e *env) deleteKeys(ctx context.Context, prefix string) error {
	del := func(ctx context.Context, c *redis.Client) error {
		var cursor uint64
		for {
			keys, next, err := c.Scan(ctx, cursor, prefix+"*", 1000).Result()
			if err != nil {
				return err
			}
			if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range keys {
					p.Unlink(ctx, k)
				}
				return nil
			}); err != nil {
				return err
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	}
	switch c := e.redis.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, del)
	case *redis.Client:
		return del(ctx, c)
	}
	return nil
}
