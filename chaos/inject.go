package main

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/internal/faultproxy"
)

// injected is a fault as it happened.
type injected struct {
	fault
	start, end time.Time // the signal to the exit; kill to kill; freeze to thaw; latency on to off
	proc       *proc     // SIGKILL, SIGTERM: the process it ended
	restarted  *proc     // SIGKILL, SIGTERM: its next incarnation
	up         time.Time // Redis or PostgreSQL restart: when the new server answered
	aofCut     int64     // Redis crash: bytes cut from the AOF
	links      int       // cuts: connections dropped; pg terminate: backends ended
	err        error
}

// injector carries out faults.
type injector struct {
	fleet      *fleet
	redis      *redisServer
	redisProxy *faultproxy.Proxy
	kafkaProxy *faultproxy.Proxy
	pg         *pgServer // -store postgres
	pgProxy    *faultproxy.Proxy
}

// How long a stopped process may take to exit: SIGKILL is immediate; a
// graceful stop drains for up to the adapters' 30s default.
const (
	killWait = 10 * time.Second
	termWait = 45 * time.Second
)

func (in *injector) inject(ctx context.Context, f fault) injected {
	r := injected{fault: f, start: time.Now()}
	switch f.kind {
	case faultKill, faultTerm:
		in.stopAndRestart(ctx, &r)
	case faultRedisRestart, faultRedisCrash:
		if f.kind == faultRedisCrash {
			r.aofCut, r.err = in.redis.crash(aofLoss)
		} else {
			r.err = in.redis.kill()
		}
		r.end = time.Now()
		if r.err == nil {
			r.err = in.redis.start(ctx)
			r.up = time.Now()
		}
	case faultRedisLatency:
		in.latency(ctx, in.redisProxy, &r)
	case faultKafkaLatency:
		in.latency(ctx, in.kafkaProxy, &r)
	case faultRedisCut:
		r.links, r.end = in.redisProxy.Cut(), time.Now()
	case faultKafkaCut:
		r.links, r.end = in.kafkaProxy.Cut(), time.Now()
	case faultRedisFreeze:
		in.freeze(ctx, in.redisProxy, &r)
	case faultKafkaFreeze:
		in.freeze(ctx, in.kafkaProxy, &r)
	case faultRedisPause:
		in.pause(ctx, &r)
	case faultPGTerminate:
		r.links, r.err = in.pg.terminateWorkers(ctx)
		r.end = time.Now()
	case faultPGRestart:
		r.err = in.pg.stopImmediate()
		r.end = time.Now()
		if r.err == nil {
			r.err = in.pg.start(ctx)
			r.up = time.Now()
		}
	case faultPGCut:
		r.links, r.end = in.pgProxy.Cut(), time.Now()
	case faultPGFreeze:
		in.freeze(ctx, in.pgProxy, &r)
	case faultPGCommitLost:
		in.commitLost(ctx, &r)
	}
	return r
}

func (in *injector) stopAndRestart(ctx context.Context, r *injected) {
	sig, wait := sigKill, killWait
	if r.kind == faultTerm {
		sig, wait = sigTerm, termWait
	}
	p, err := in.fleet.stop(r.victim, sig, wait)
	switch {
	case p == nil:
		r.err = fmt.Errorf("chaos: %s is not running", r.victim)
		r.end = r.start
		return
	case err != nil:
		r.err = err
	}
	r.proc, r.start, r.end = p, p.signalAt, p.exitAt
	sleep(ctx, r.dur)
	r.restarted, err = in.fleet.start(r.victim)
	if r.err == nil {
		r.err = err
	}
}

func (in *injector) latency(ctx context.Context, p *faultproxy.Proxy, r *injected) {
	p.SetLatency(r.fault.latency)
	sleep(ctx, r.dur)
	p.SetLatency(0)
	r.end = time.Now()
}

func (in *injector) freeze(ctx context.Context, p *faultproxy.Proxy, r *injected) {
	p.Freeze()
	sleep(ctx, r.dur)
	p.Thaw()
	r.end = time.Now()
}

// pause holds every write on the guard's redis-server for r.dur (CLIENT
// PAUSE ... WRITE, sent to the server directly: the proxy is not involved)
// and returns when Redis takes writes again by its own clock.
func (in *injector) pause(ctx context.Context, r *injected) {
	client := redis.NewClient(&redis.Options{Addr: in.redis.addr()})
	defer client.Close()
	r.err = client.Do(ctx, "CLIENT", "PAUSE", r.dur.Milliseconds(), "WRITE").Err()
	if r.err == nil {
		sleep(ctx, time.Until(r.start.Add(r.dur)))
	}
	r.end = time.Now()
}

// commitLost makes the PostgreSQL proxy drop the answer to a COMMIT (and
// cut its link), again as soon as it did, up to commitDrops times within
// r.dur; r.links counts the answers dropped.
func (in *injector) commitLost(ctx context.Context, r *injected) {
	deadline := r.start.Add(r.dur)
	for r.links < commitDrops && time.Now().Before(deadline) && ctx.Err() == nil {
		before := in.pgProxy.Stats().Cut
		in.pgProxy.DropReply(isCommitReply)
		for in.pgProxy.Stats().Cut == before && time.Now().Before(deadline) && ctx.Err() == nil {
			sleep(ctx, 5*time.Millisecond)
		}
		if in.pgProxy.Stats().Cut > before {
			r.links++
		}
	}
	in.pgProxy.DropReply(nil)
	r.end = time.Now()
}

// commitComplete is PostgreSQL's answer to a COMMIT that committed: the
// CommandComplete message ('C', its length 11, "COMMIT\x00").
var commitComplete = []byte("C\x00\x00\x00\x0bCOMMIT\x00")

func isCommitReply(b []byte) bool { return bytes.Contains(b, commitComplete) }

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// describe is a fault's detail column.
func (r injected) describe() string {
	switch r.kind {
	case faultKill, faultTerm:
		if r.proc == nil {
			return r.victim + " (not running)"
		}
		s := fmt.Sprintf("%s (exit in %s)", r.proc.inst, seconds(r.end.Sub(r.start)))
		if r.burst > 0 {
			s = fmt.Sprintf("%s after a burst of %d", r.proc.inst, r.burst)
		}
		if r.restarted != nil {
			s += fmt.Sprintf(", %s in %s", r.restarted.inst, seconds(r.restarted.started.Sub(r.end)))
		}
		return s
	case faultRedisRestart, faultPGRestart:
		return fmt.Sprintf("down %s", seconds(r.up.Sub(r.start)))
	case faultPGTerminate:
		return fmt.Sprintf("%d backends", r.links)
	case faultPGCommitLost:
		return fmt.Sprintf("%d COMMIT answers dropped", r.links)
	case faultRedisCrash:
		return fmt.Sprintf("down %s, AOF -%v (%d KiB)", seconds(r.up.Sub(r.start)), aofLoss, r.aofCut>>10)
	case faultRedisLatency, faultKafkaLatency:
		return fmt.Sprintf("+%v each way, %s", r.fault.latency, seconds(r.end.Sub(r.start)))
	case faultRedisCut, faultKafkaCut, faultPGCut:
		return fmt.Sprintf("%d connections", r.links)
	case faultRedisPause:
		return fmt.Sprintf("%s after a burst of %d", seconds(r.end.Sub(r.start)), r.burst)
	default:
		return seconds(r.end.Sub(r.start))
	}
}
