package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/redisopt"
)

// options are the go-redis options the global flags name.
func (g globals) options() (*redis.UniversalOptions, error) {
	o, err := redisopt.Parse(g.redis)
	if err != nil {
		return nil, usagef("-redis: %v", err)
	}
	o.IsClusterMode = o.IsClusterMode || g.cluster
	if o.IsClusterMode && o.DB != 0 {
		return nil, usagef("-redis: a Cluster has only database 0, not %d", o.DB)
	}
	o.Username, o.Password = or(g.user, o.Username), or(g.password, o.Password)
	o.ContextTimeoutEnabled = true // -timeout bounds socket reads too
	if g.tls || g.tlsInsecure || g.tlsCA != "" {
		if o.TLSConfig, err = g.tlsConfig(o.TLSConfig); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// tlsConfig is cfg (a rediss:// URL's, or a new one) with the TLS flags.
// Without a server name, crypto/tls takes each node's host from its address.
func (g globals) tlsConfig(cfg *tls.Config) (*tls.Config, error) {
	if cfg == nil {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	cfg.InsecureSkipVerify = g.tlsInsecure
	if g.tlsCA == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(g.tlsCA)
	if err != nil {
		return nil, usagef("-tls-ca: %v", err)
	}
	cfg.RootCAs = x509.NewCertPool()
	if !cfg.RootCAs.AppendCertsFromPEM(pem) {
		return nil, usagef("-tls-ca %s: no PEM certificate in the file", g.tlsCA)
	}
	return cfg, nil
}

// conn is an open store and its client.
type conn struct {
	store  *redisstore.Store
	client redis.UniversalClient
	addr   string // for messages: the addresses, never a URL's password
}

func (c *conn) close() {
	_ = c.store.Close()
	_ = c.client.Close()
}

// open connects to the Redis the flags name and checks that it answers.
func (a *app) open(ctx context.Context) (*conn, error) {
	o, err := a.g.options()
	if err != nil {
		return nil, err
	}
	client := redis.NewUniversalClient(o)
	s, err := redisstore.New(client, redisstore.WithPrefix(a.g.prefix), redisstore.WithoutGroupCommit())
	if err != nil {
		_ = client.Close()
		return nil, usagef("-prefix: %v", err)
	}
	c := &conn{store: s, client: client, addr: strings.Join(o.Addrs, ",")}
	ctx, cancel := a.bounded(ctx)
	defer cancel()
	if err := client.Ping(ctx).Err(); err != nil {
		c.close()
		return nil, fmt.Errorf("idemq: Redis at %s does not answer: %w", c.addr, err)
	}
	return c, nil
}
