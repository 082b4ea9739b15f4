package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// faultKind is one kind of fault the run injects.
type faultKind int

const (
	faultKill         faultKind = iota // SIGKILL a consumer process, start it again
	faultTerm                          // SIGTERM: a graceful stop (Run's ctx is cancelled), then start again
	faultRedisRestart                  // SIGKILL the guard's redis-server, start it on the same dir and port
	faultRedisCrash                    // the same, with the AOF cut back by a second: a host crash under appendfsync everysec
	faultRedisLatency                  // added latency on every Redis link
	faultRedisCut                      // every Redis connection dropped
	faultRedisFreeze                   // Redis links frozen longer than go-redis's 3s read timeout
	faultKafkaLatency                  // added latency on every consumer's Kafka link
	faultKafkaCut                      // every consumer's Kafka connection dropped
	faultKafkaFreeze                   // Kafka links frozen longer than the group's session timeout
	faultRedisPause                    // CLIENT PAUSE WRITE on the guard's redis-server, longer than the queued lease
	faultPGTerminate                   // -store postgres: pg_terminate_backend of every worker's session
	faultPGRestart                     // -store postgres: immediate stop of the run's PostgreSQL, start on the same dir and port
	faultPGCut                         // -store postgres: every PostgreSQL connection dropped
	faultPGFreeze                      // -store postgres: PostgreSQL links frozen
	faultPGCommitLost                  // -store postgres: the answers to a few COMMITs dropped, their links cut
)

var faultNames = [...]string{
	faultKill: "SIGKILL", faultTerm: "SIGTERM", faultRedisRestart: "redis restart", faultRedisCrash: "redis crash",
	faultRedisLatency: "redis latency", faultRedisCut: "redis cut", faultRedisFreeze: "redis freeze",
	faultKafkaLatency: "kafka latency", faultKafkaCut: "kafka cut", faultKafkaFreeze: "kafka freeze",
	faultRedisPause: "redis write pause", faultPGTerminate: "pg terminate", faultPGRestart: "pg restart",
	faultPGCut: "pg cut", faultPGFreeze: "pg freeze", faultPGCommitLost: "pg commit lost",
}

func (k faultKind) String() string { return faultNames[k] }

// redis reports whether k restarts the guard's Redis.
func (k faultKind) redis() bool { return k == faultRedisRestart || k == faultRedisCrash }

// postgres reports whether k is a fault of the run's PostgreSQL.
func (k faultKind) postgres() bool { return k >= faultPGTerminate }

// fits reports whether k is a fault of store's runs: the Redis faults of
// -store redis, the PostgreSQL ones of -store postgres, and the others of
// both.
func (k faultKind) fits(store string) bool {
	switch {
	case k.postgres():
		return store == storePostgres
	case k >= faultRedisRestart && k <= faultRedisFreeze || k == faultRedisPause:
		return store == storeRedis
	}
	return true
}

// fault is one scheduled fault.
type fault struct {
	kind    faultKind
	at      time.Duration // after the producer's start
	victim  string        // SIGKILL, SIGTERM: the member
	dur     time.Duration // latency, freeze, pause: how long; SIGKILL, SIGTERM: the pause before the restart
	latency time.Duration // latency: added each way
	burst   int           // SIGKILL: messages published at once burstLead before it (a backlog to catch up on)
	burstTo string        // the role whose topic gets the burst
	quiet   time.Duration // no other fault this close before or after it (a write pause: pauseQuiet)
}

// A Redis write pause holds every write of the live processes, the
// guard's and the handlers' effects, for longer than the queued lease
// (dedupe.DefaultQueuedLease, 5s) and go-redis's read timeout (3s); Redis
// answers reads. pauseQuiet keeps every other fault away from it, so that
// no SIGKILL's or Redis restart's window can explain a double effect the
// pause caused: it is longer than a restart's lost window (aofWindow)
// plus the adapters' longest backoff (5s) after the pause.
const (
	pauseMin   = 6 * time.Second
	pauseMax   = 7 * time.Second
	pauseQuiet = 10 * time.Second
)

// A commit-lost fault drops the answers to up to commitDrops COMMITs
// within commitLostFor, one at a time: each time the server committed, the
// client's connection breaks before it hears so (pgstore's
// dedupe.ErrCommitUnknown), and the redelivery must find the key's row.
const (
	commitDrops   = 5
	commitLostFor = 3 * time.Second
)

// burstLead is how long before a SIGKILL its burst is published: the
// consumers have fetched it and claimed it, and are working through it.
const burstLead = 300 * time.Millisecond

// aofLoss is what a Redis crash cuts from the AOF: appendfsync everysec
// has made the file durable up to about a second before.
const aofLoss = time.Second

// defaultFaults is the default run's set: 16 faults.
var defaultFaults = []faultKind{
	faultKill, faultKill, faultKill, faultKill, faultTerm, faultTerm,
	faultRedisRestart, faultRedisCrash, faultRedisLatency, faultRedisCut, faultRedisCut, faultRedisFreeze,
	faultRedisPause, faultKafkaLatency, faultKafkaCut, faultKafkaFreeze,
}

// shortFaults is the short form's set: 9 faults, a SIGKILL for each group
// (see assignVictims).
var shortFaults = []faultKind{
	faultKill, faultKill, faultKill, faultTerm, faultRedisCrash, faultRedisFreeze, faultRedisCut,
	faultKafkaLatency, faultKafkaFreeze,
}

// pgFaults is the default set of -store postgres: 16 faults.
var pgFaults = []faultKind{
	faultKill, faultKill, faultKill, faultKill, faultTerm, faultTerm,
	faultPGTerminate, faultPGTerminate, faultPGRestart, faultPGRestart, faultPGCut, faultPGFreeze,
	faultKafkaLatency, faultKafkaCut, faultKafkaFreeze, faultPGCommitLost,
}

// pgShortFaults is the short set of -store postgres: 10 faults.
var pgShortFaults = []faultKind{
	faultKill, faultKill, faultKill, faultTerm, faultPGTerminate, faultPGRestart, faultPGFreeze, faultPGCut,
	faultPGCommitLost, faultKafkaFreeze,
}

// Where faults go: none in the first lead (the group forms, traffic
// flows) nor in the last tail of the producer's run (the last SIGKILL's
// stranded claims should expire while messages still flow).
const (
	scheduleLead     = 8 * time.Second
	scheduleTail     = 0.2 // of the duration
	minFaultDistance = time.Second
)

// schedule draws the run's faults from rng: which kinds (the default or
// short set or -faults, or -density per minute drawn from the mix of
// -faults or else of the default set, as many as fit), their order,
// victims, durations and times. The first SIGKILL hits a Kafka adapter
// consumer, the next a router and a franz-go consumer (those that run).
func schedule(rng *rand.Rand, cfg config, kafkaMembers, routers, franzMembers []string) []fault {
	mix, short := defaultFaults, shortFaults
	if cfg.postgres() {
		mix, short = pgFaults, pgShortFaults
	}
	if len(cfg.Faults) > 0 {
		mix = cfg.Faults
	}
	kinds := append([]faultKind(nil), mix...)
	if cfg.Short && len(cfg.Faults) == 0 {
		kinds = append(kinds[:0], short...)
	}
	if cfg.Density > 0 {
		n := max(1, int(math.Round(cfg.Density*cfg.Duration.Minutes())))
		kinds = kinds[:0]
		for len(kinds) < n {
			kinds = append(kinds, mix[rng.IntN(len(mix))])
		}
	}
	rng.Shuffle(len(kinds), func(i, j int) { kinds[i], kinds[j] = kinds[j], kinds[i] })
	faults := make([]fault, len(kinds))
	for i, k := range kinds {
		faults[i] = drawFault(rng, k)
	}
	to := time.Duration(float64(cfg.Duration) * (1 - scheduleTail))
	faults = fitting(faults, to-scheduleLead)
	assignVictims(rng, faults, kafkaMembers, routers, franzMembers)
	addBursts(faults, burstGroup{roleKafka, kafkaMembers, min(400*cfg.Partitions, cfg.Messages/6)},
		burstGroup{roleFranz, franzMembers, min(400*cfg.FZParts, cfg.FZMessages/6)})
	place(rng, faults, scheduleLead, to)
	return faults
}

// fitting returns the first faults whose durations fit in span one after
// another (a high -density asks for more than fit).
func fitting(faults []fault, span time.Duration) []fault {
	busy := time.Duration(0)
	for i, f := range faults {
		if busy += f.dur + minFaultDistance + 2*f.quiet; busy > span {
			return faults[:i]
		}
	}
	return faults
}

func drawFault(rng *rand.Rand, k faultKind) fault {
	between := func(lo, hi time.Duration) time.Duration { return lo + time.Duration(rng.Int64N(int64(hi-lo)+1)) }
	f := fault{kind: k}
	switch k {
	case faultKill, faultTerm:
		f.dur = between(time.Second, 3*time.Second)
	case faultRedisLatency, faultKafkaLatency:
		f.dur, f.latency = between(6*time.Second, 10*time.Second), time.Duration(20+rng.IntN(41))*time.Millisecond
	case faultRedisFreeze:
		f.dur = between(4*time.Second, 6*time.Second) // > go-redis's ReadTimeout (3s)
	case faultPGFreeze:
		f.dur = between(4*time.Second, 6*time.Second)
	case faultPGCommitLost:
		f.dur = commitLostFor
	case faultKafkaFreeze:
		f.dur = between(7*time.Second, 9*time.Second) // > the session timeout (6s)
	case faultRedisPause:
		f.dur, f.quiet = between(pauseMin, pauseMax), pauseQuiet
	}
	return f
}

// assignVictims picks the members SIGKILL and SIGTERM hit: the first
// SIGKILLs one member of each group in turn (a Kafka adapter consumer, a
// router, a franz-go consumer: those that run), the rest any member.
func assignVictims(rng *rand.Rand, faults []fault, groups ...[]string) {
	var all []string
	var pools [][]string
	for _, g := range groups {
		if len(g) > 0 {
			all, pools = append(all, g...), append(pools, g)
		}
	}
	kills := 0
	for i := range faults {
		if faults[i].kind != faultKill && faults[i].kind != faultTerm {
			continue
		}
		pool := all
		if faults[i].kind == faultKill {
			if kills < len(pools) {
				pool = pools[kills]
			}
			kills++
		}
		faults[i].victim = pool[rng.IntN(len(pool))]
	}
}

// burstGroup is an adapter's group whose SIGKILLs get bursts of n
// messages on its topic.
type burstGroup struct {
	role    string
	members []string
	n       int
}

// addBursts gives every other SIGKILL of an adapter's consumer (kafka-go
// or franz-go), the first of each included, a burst on that adapter's
// topic: it then dies with a fetched batch claimed and partly done, as a
// consumer catching up on a backlog does (issue 14's case), while the
// others die in the steady stream. A Redis write pause gets a burst on
// the first group's topic (the Kafka adapter's) too: it begins while the
// consumers hold claimed keys whose handlers have not started (the queued
// lease).
func addBursts(faults []fault, groups ...burstGroup) {
	kills := make([]int, len(groups))
	for i := range faults {
		f := &faults[i]
		if f.kind == faultRedisPause {
			f.burst, f.burstTo = groups[0].n, groups[0].role
		}
		for gi, g := range groups {
			if f.kind != faultKill || !slices.Contains(g.members, f.victim) {
				continue
			}
			if kills[gi]%2 == 0 {
				f.burst, f.burstTo = g.n, g.role
			}
			kills[gi]++
		}
	}
}

// bursts returns the messages the producer publishes at once on role's
// topic, by time.
func bursts(faults []fault, role string) []burst {
	var out []burst
	for _, f := range faults {
		if f.burst > 0 && f.burstTo == role {
			out = append(out, burst{at: f.at - burstLead, n: f.burst})
		}
	}
	return out
}

// place spreads the faults over [from, to): each takes its duration (a
// process's pause before its restart counts) and its quiet time on both
// sides, and the free time is split into random gaps. Faults never
// overlap.
func place(rng *rand.Rand, faults []fault, from, to time.Duration) {
	busy := time.Duration(0)
	for _, f := range faults {
		busy += f.dur + minFaultDistance + 2*f.quiet
	}
	free := max(to-from-busy, 0)
	weights := make([]float64, len(faults)+1)
	total := 0.0
	for i := range weights {
		weights[i] = 0.5 + rng.Float64()
		total += weights[i]
	}
	t := from
	for i := range faults {
		t += time.Duration(float64(free)*weights[i]/total) + faults[i].quiet
		faults[i].at = t
		t += faults[i].dur + minFaultDistance + faults[i].quiet
	}
}
