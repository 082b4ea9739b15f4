package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// server is one standalone Redis or Valkey, with the key prefix of this run.
type server struct {
	label   string // "redis" or "valkey": the rows' names use it
	addr    string
	client  *redis.Client
	prefix  string // every key of the run is under it; deleted at the end
	version string // from INFO server, e.g. "Redis 7.0.15"
	name    string // CLIENT SETNAME of every connection of ours
	dials   atomic.Int64

	allocator  string       // INFO memory mem_allocator, e.g. "jemalloc-5.3.0"
	memoryBase string       // the user keys of every memory row start with it (see memoryKeys)
	memoryRuns atomic.Int64 // memory rounds so far: each gets keys of its own
}

// dial is go-redis's default dialer, counting our connections: the server's
// count of connections received beyond ours were someone else's.
func (s *server) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	s.dials.Add(1)
	d := net.Dialer{Timeout: 5 * time.Second, KeepAlive: 5 * time.Minute}
	return d.DialContext(ctx, network, addr)
}

func dialServer(ctx context.Context, label, variable, runID string) (*server, error) {
	addrs, err := addrsFromEnv(variable)
	if err != nil {
		return nil, err
	}
	s := &server{label: label, addr: addrs[0], prefix: "idemqbench:" + runID + ":", name: "idemqbench-" + runID,
		memoryBase: "ib" + runID[strings.LastIndexByte(runID, '-')+1:]}
	s.client = s.newClient()
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	info, err := s.info(ctx, "server")
	if err == nil {
		s.version = serverVersion(info)
		info, err = s.info(ctx, "memory")
	}
	if err == nil {
		s.allocator = info["mem_allocator"]
		info, err = s.info(ctx, "replication")
	}
	if err != nil {
		_ = s.client.Close()
		return nil, fmt.Errorf("%s at %s (%s): %w; is `make services` running?", label, s.addr, variable, err)
	}
	switch n := info["connected_slaves"]; n {
	case "", "0":
	case "1":
		s.version += " (a replica attached: the server's CPU includes feeding it)"
	default:
		s.version += " (" + n + " replicas attached: the server's CPU includes feeding them)"
	}
	return s, nil
}

// newClient is a client whose connections are counted as ours and named
// so (the run's shared client; a memory round's own, closed after its
// writes so that its buffers are freed).
func (s *server) newClient() *redis.Client {
	return redis.NewClient(&redis.Options{Addr: s.addr, PoolSize: 64, ClientName: s.name, Dialer: s.dial})
}

// serverVersion names the server as INFO server does: Valkey reports a
// redis_version for compatibility and its own valkey_version.
func serverVersion(info map[string]string) string {
	if v := info["valkey_version"]; v != "" {
		return "Valkey " + v
	}
	return "Redis " + info["redis_version"]
}

// keyPrefix is a fresh prefix under the run's, for one round of one row.
func (s *server) keyPrefix(row string, round int) string {
	return s.prefix + strings.NewReplacer("/", "-", "{", "", "}", "").Replace(row) + ":" + strconv.Itoa(round) + ":"
}

// info returns the fields of one INFO section.
func (s *server) info(ctx context.Context, section string) (map[string]string, error) {
	text, err := s.client.Info(ctx, section).Result()
	if err != nil {
		return nil, err
	}
	fields := map[string]string{}
	for _, line := range strings.Split(text, "\r\n") {
		if name, v, ok := strings.Cut(line, ":"); ok && !strings.HasPrefix(name, "#") {
			fields[name] = v
		}
	}
	return fields, nil
}

// close deletes every key under the run's prefix and every memory row's key
// (SCAN and a pipeline of UNLINKs per page; never FLUSHDB: the server is
// shared) and closes the client.
func (s *server) close(ctx context.Context) error {
	err := s.deletePrefix(ctx, s.prefix)
	err = errors.Join(err, s.deletePrefix(ctx, recordKeyPrefix(s.memoryBase)))
	return errors.Join(err, s.client.Close())
}

// deletePrefix deletes every key under prefix. Rows call it after each
// round too (outside the measured window), so the keyspace stays small.
func (s *server) deletePrefix(ctx context.Context, prefix string) error {
	var cursor uint64
	for {
		keys, next, err := s.client.Scan(ctx, cursor, prefix+"*", 5000).Result()
		if err != nil {
			return fmt.Errorf("%s: deleting keys under %q: %w", s.label, prefix, err)
		}
		if len(keys) > 0 {
			if err := s.client.Unlink(ctx, keys...).Err(); err != nil {
				return fmt.Errorf("%s: deleting keys under %q: %w", s.label, prefix, err)
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}
