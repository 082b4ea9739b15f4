// Package redisopt reads the -redis flag that idemq's commands share (the
// idemq CLI and the demo consumer) into go-redis options.
//
// The flag holds one of:
//
//	host:port                      a single node
//	host1:port,host2:port,...      the seed nodes of a Redis Cluster (two or more)
//	redis://[user:password@]host:port[/db][?options]
//	rediss://...                   the same over TLS (server name: the URL's host)
//
// URLs take go-redis's query options (dial_timeout, read_timeout, ...); a
// URL with addr=host:port options names more Cluster seeds, as go-redis's
// ParseClusterURL reads it.
package redisopt

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Parse reads addr into options for redis.NewUniversalClient: two or more
// addresses make a Cluster client, one a single-node client.
func Parse(addr string) (*redis.UniversalOptions, error) {
	addr = strings.TrimSpace(addr)
	switch {
	case addr == "":
		return nil, errors.New("redisopt: no address")
	case strings.Contains(addr, "://"):
		return parseURL(addr)
	}
	seeds := strings.Split(addr, ",")
	for i, s := range seeds {
		seeds[i] = strings.TrimSpace(s)
		if _, _, err := net.SplitHostPort(seeds[i]); err != nil {
			return nil, fmt.Errorf("redisopt: %q is not host:port: %w", seeds[i], err)
		}
	}
	return &redis.UniversalOptions{Addrs: seeds}, nil
}

// parseURL reads a redis:// or rediss:// URL, with addr= seeds a Cluster URL.
func parseURL(addr string) (*redis.UniversalOptions, error) {
	u, err := url.Parse(addr)
	if err != nil {
		return nil, fmt.Errorf("redisopt: %w", err)
	}
	if u.Query().Has("addr") {
		o, err := redis.ParseClusterURL(addr)
		if err != nil {
			return nil, fmt.Errorf("redisopt: %w", err)
		}
		return fromCluster(o), nil
	}
	o, err := redis.ParseURL(addr)
	if err != nil {
		return nil, fmt.Errorf("redisopt: %w", err)
	}
	return fromSimple(o), nil
}

func fromSimple(o *redis.Options) *redis.UniversalOptions {
	return &redis.UniversalOptions{
		Addrs: []string{o.Addr}, Username: o.Username, Password: o.Password, DB: o.DB, TLSConfig: o.TLSConfig,
		ClientName: o.ClientName, Protocol: o.Protocol, MaxRetries: o.MaxRetries, PoolSize: o.PoolSize,
		DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
	}
}

func fromCluster(o *redis.ClusterOptions) *redis.UniversalOptions {
	return &redis.UniversalOptions{
		Addrs: o.Addrs, IsClusterMode: true, Username: o.Username, Password: o.Password, TLSConfig: o.TLSConfig,
		ClientName: o.ClientName, Protocol: o.Protocol, MaxRetries: o.MaxRetries, PoolSize: o.PoolSize,
		DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
	}
}
