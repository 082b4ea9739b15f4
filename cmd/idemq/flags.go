package main

import (
	"flag"
	"time"

	"github.com/idemq/idemq/dedupe/redisstore"
)

// globals are the flags every command takes, before or after its name.
type globals struct {
	redis, prefix, user, password, tlsCA, codec string
	cluster, tls, tlsInsecure, json             bool
	timeout                                     time.Duration
}

// defaultGlobals are the globals before any flag: from the environment,
// else built in.
func defaultGlobals(env func(string) string) globals {
	return globals{
		redis:   or(env("IDEMQ_REDIS"), "127.0.0.1:6379"),
		prefix:  or(env("IDEMQ_PREFIX"), redisstore.DefaultPrefix),
		codec:   codecJSON,
		timeout: 10 * time.Second,
	}
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// register defines the global flags on fs, with g's current values as
// their defaults (a command's flag set takes them again after the name).
func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.redis, "redis", g.redis, "Redis `address`: host:port, a redis:// or rediss:// URL (user, password, /db, TLS), or comma-separated Cluster seeds (env IDEMQ_REDIS)")
	fs.BoolVar(&g.cluster, "cluster", g.cluster, "the address is a Cluster node even if it is the only one")
	fs.StringVar(&g.prefix, "prefix", g.prefix, "the guard's key `prefix`, as redisstore.WithPrefix sets it (env IDEMQ_PREFIX)")
	fs.StringVar(&g.user, "user", g.user, "ACL `user` name (overrides the URL's)")
	fs.StringVar(&g.password, "password", g.password, "`password` (overrides the URL's; default env IDEMQ_REDIS_PASSWORD)")
	fs.BoolVar(&g.tls, "tls", g.tls, "connect with TLS (as a rediss:// URL does)")
	fs.BoolVar(&g.tlsInsecure, "tls-insecure", g.tlsInsecure, "with TLS, do not verify the server's certificate")
	fs.StringVar(&g.tlsCA, "tls-ca", g.tlsCA, "with TLS, verify the server against the CA certificates in this PEM `file`")
	fs.BoolVar(&g.json, "json", g.json, "print JSON (stable field names) instead of text")
	fs.StringVar(&g.codec, "codec", g.codec, "how committed values are shown: json (pretty; compact with -json), string, or raw (base64)")
	fs.DurationVar(&g.timeout, "timeout", g.timeout, "bound on each step that talks to Redis (not on a confirmation prompt)")
}

// parse parses args with fs, flags and arguments in any order ("--" ends
// the flags), and returns the arguments.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// check validates the globals once parsed, and takes the password from the
// environment if no flag gave one.
func (g *globals) check(env func(string) string) error {
	if g.password == "" {
		g.password = env("IDEMQ_REDIS_PASSWORD")
	}
	switch {
	case g.codec != codecJSON && g.codec != codecString && g.codec != codecRaw:
		return usagef("-codec %q: want json, string or raw", g.codec)
	case g.timeout <= 0:
		return usagef("-timeout %v: want more than 0", g.timeout)
	}
	return nil
}
