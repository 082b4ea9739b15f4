package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// redisPoint is a server's counters at one moment.
type redisPoint struct {
	cpu   float64          // used_cpu_user + used_cpu_sys, seconds
	calls map[string]int64 // INFO commandstats calls, per command
	conns int64            // total_connections_received
	dials int64            // connections we opened
	keys  int64            // used_memory less buffers: the keyspace's memory and some fixed structures
	at    time.Time
}

// redisDelta is a server's work during a round, per item (message or key).
type redisDelta struct {
	cpuPerKey  float64            // server CPU µs per item
	cmdsPerKey float64            // commands per item (a script counts once, its inner commands too)
	perKey     map[string]float64 // commands per item, per command
	shared     string             // why other clients may have used the server meanwhile; "" if none did
}

// point reads INFO cpu, commandstats, stats and memory in one call.
func (s *server) point(ctx context.Context) (*redisPoint, error) {
	dials := s.dials.Load()
	text, err := s.client.Info(ctx, "cpu", "commandstats", "stats", "memory").Result()
	if err != nil {
		return nil, err
	}
	p := &redisPoint{calls: map[string]int64{}, dials: dials, at: time.Now()}
	for _, line := range strings.Split(text, "\r\n") {
		name, v, _ := strings.Cut(line, ":")
		switch {
		case name == "used_memory":
			n, _ := strconv.ParseInt(v, 10, 64)
			p.keys += n
		case buffers[name]:
			n, _ := strconv.ParseInt(v, 10, 64)
			p.keys -= n
		case name == "used_cpu_user" || name == "used_cpu_sys":
			f, _ := strconv.ParseFloat(v, 64)
			p.cpu += f
		case name == "total_connections_received":
			p.conns, _ = strconv.ParseInt(v, 10, 64)
		case strings.HasPrefix(name, "cmdstat_"):
			p.calls[strings.TrimPrefix(name, "cmdstat_")] = parseCalls(v)
		}
	}
	return p, nil
}

// buffers are the INFO memory fields, parts of used_memory, that are no
// key's: clients' query and output buffers, the replicas' and the
// replication backlog's shared buffer, and AOF's. A point's keys is
// used_memory less these: what is left is the keyspace (keys, values,
// expiries, the hash tables), the script cache and the server's fixed
// structures, which only the keyspace changes much.
var buffers = map[string]bool{"mem_clients_normal": true, "mem_clients_slaves": true, "mem_replication_backlog": true,
	"mem_aof_buffer": true}

// parseCalls reads calls= from "calls=12,usec=34,...".
func parseCalls(v string) int64 {
	for _, f := range strings.Split(v, ",") {
		if n, ok := strings.CutPrefix(f, "calls="); ok {
			c, _ := strconv.ParseInt(n, 10, 64)
			return c
		}
	}
	return 0
}

// delta is the work from earlier to p, per item, and whether anyone else
// used the server meanwhile: a connection we did not open, or (from CLIENT
// LIST) a client not named ours that was active during the round. The INFO
// calls of the measurement itself are left out.
func (s *server) delta(ctx context.Context, earlier, p *redisPoint, items int) (*redisDelta, error) {
	d := &redisDelta{cpuPerKey: (p.cpu - earlier.cpu) * 1e6 / float64(items), perKey: map[string]float64{}}
	for name, calls := range p.calls {
		if n := calls - earlier.calls[name]; n > 0 && name != "info" {
			d.perKey[name] = float64(n) / float64(items)
			d.cmdsPerKey += float64(n) / float64(items)
		}
	}
	active, err := s.othersActive(ctx, p.at.Sub(earlier.at))
	if err != nil {
		return nil, err
	}
	if others := (p.conns - earlier.conns) - (p.dials - earlier.dials); others > 0 || active > 0 {
		d.shared = fmt.Sprintf("%d other connections opened, %d other clients active", max(others, 0), active)
	}
	return d, nil
}

// othersActive counts the clients not named ours that sent a command in
// the last window (CLIENT LIST idle, whole seconds, rounded up). A replica's
// link (flags S) is not one: it only receives the writes, ours included.
func (s *server) othersActive(ctx context.Context, window time.Duration) (int, error) {
	list, err := s.client.ClientList(ctx).Result()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, line := range strings.Split(list, "\n") {
		fields := map[string]string{}
		for _, f := range strings.Fields(line) {
			if k, v, ok := strings.Cut(f, "="); ok {
				fields[k] = v
			}
		}
		idle, err := strconv.ParseFloat(fields["idle"], 64)
		replica := strings.Contains(fields["flags"], "S")
		if err == nil && fields["name"] != s.name && !replica && idle <= window.Seconds()+1 {
			n++
		}
	}
	return n, nil
}
