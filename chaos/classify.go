package main

import (
	"time"
)

// Classes of double effects: every effect of a key after its first must be
// explained by the fate of the effect before it.
const (
	classKilled  = 'a' // the earlier effect's process was SIGKILLed holding the key, its commit not landed
	classRestart = 'b' // the earlier effect's claim or commit was within the Redis restart's lost window
	classOther   = 'c' // unexplained: a bug report
)

// Notes of classRestart doubles: the restart lost a commit the journal
// shows as won, or the commit (or claim) was in flight across it, its
// outcome unknown to the process, and the key ran again.
const (
	restartLost     = "won commit lost"
	restartInFlight = "in flight"
)

// aofWindow is how much a Redis restart can lose with appendfsync
// everysec: "about one second", and up to two when an fsync is slow (Redis
// postpones the fsync by up to 2s before it blocks writes).
const aofWindow = 2 * time.Second

// double is one effect of a key beyond its first.
type double struct {
	key    string
	role   string
	effect ref    // the extra effect
	prev   ref    // the effect before it
	class  byte   // classKilled, classRestart or classOther
	fault  int    // index in run.done of the fault that explains it, -1 if none
	note   string // for classOther: what is wrong
}

// classifier explains double effects with the faults that happened.
type classifier struct {
	h      *history
	faults []injected
	killOf map[int]int // process index -> index of the SIGKILL fault that ended it
}

func newClassifier(h *history, faults []injected) *classifier {
	c := &classifier{h: h, faults: faults, killOf: map[int]int{}}
	for fi, f := range faults {
		if f.kind != faultKill || f.proc == nil {
			continue
		}
		for pi, p := range h.procs {
			if p == f.proc {
				c.killOf[pi] = fi
			}
		}
	}
	return c
}

// doubles returns key's extra effects, each classified.
func (c *classifier) doubles(key, role string) []double {
	effects := c.h.effects(key)
	var out []double
	for j := 1; j < len(effects); j++ {
		out = append(out, c.classify(double{key: key, role: role, effect: effects[j], prev: effects[j-1], fault: -1}))
	}
	return out
}

func (c *classifier) classify(d double) double {
	p := c.h.procs[d.prev.proc]
	fi, killed := c.killOf[d.prev.proc]
	killedHolding := killed && c.h.heldAtEnd(d.prev.proc, d.key)
	if killedHolding && c.h.stillHeld(d.prev.proc, d.key) && d.effect.at.After(p.exitAt) {
		d.class, d.fault = classKilled, fi
		return d
	}
	for fi, f := range c.faults {
		if !f.kind.redis() || f.up.IsZero() || !d.effect.at.After(f.start) {
			continue
		}
		from := f.start.Add(-aofWindow)
		// The earlier effect's commit or claim was lost, or the later
		// effect's own claim was (it ran on a claim the restart forgot,
		// after another process had claimed the key afresh).
		if c.h.touched(d.prev.proc, d.key, from, f.up) || c.h.claimedIn(d.effect.proc, d.key, from, f.up) {
			d.class, d.fault, d.note = classRestart, fi, restartInFlight
			if c.h.committed(d.prev.proc, d.key, f.start.Add(-aofWindow), f.start) {
				d.note = restartLost
			}
			return d
		}
	}
	d.class = classOther
	switch {
	case killedHolding:
		d.note = "ran again while the killed process still held the key"
	case d.prev.proc == d.effect.proc:
		d.note = "the same process ran it twice"
	case p.signal == sigTerm && c.h.heldAtEnd(d.prev.proc, d.key):
		d.note = "the earlier process was stopped gracefully without committing"
	default:
		d.note = "no fault explains it"
	}
	if fi := c.stallOf(d); fi >= 0 {
		d.fault = fi
		d.note += ", across the " + c.faults[fi].kind.String()
	}
	return d
}

// stallOf returns the index of the Redis stall (a write pause or a freeze)
// across which the earlier effect's process held the key (it claimed, ran
// or committed it between a queued lease before the stall and pauseQuiet
// after it) and the extra effect came after the stall began, or -1. It
// only names the fault of an unexplained double, for the fault's row: a
// stall explains none. Every process was alive through it, and a live
// owner runs a key once however long Redis stalls; a write pause's quiet
// time keeps the windows of (a) and (b) away from it (see pauseQuiet).
func (c *classifier) stallOf(d double) int {
	for fi, f := range c.faults {
		if (f.kind == faultRedisPause || f.kind == faultRedisFreeze) && d.effect.at.After(f.start) &&
			c.h.touched(d.prev.proc, d.key, f.start.Add(-queuedLease), f.end.Add(pauseQuiet)) {
			return fi
		}
	}
	return -1
}

// ending is what a SIGKILL or SIGTERM left behind: the claims the process
// held (not started, running, effect done but not committed) and how long
// each took until another process resolved it.
type ending struct {
	proc        int
	notStarted  int
	running     int
	uncommitted int
	waits       []time.Duration // per claim resolved by another process
	unresolved  int             // claims no other process touched again
}

func (e ending) held() int     { return e.notStarted + e.running + e.uncommitted }
func (e ending) inFlight() int { return e.running + e.uncommitted }

// maxWait is the longest a claim stayed stranded.
func (e ending) maxWait() time.Duration {
	var m time.Duration
	for _, w := range e.waits {
		m = max(m, w)
	}
	return m
}

// endingOf summarises the claims process i held when it ended at t.
func (c *classifier) endingOf(i int, t time.Time) ending {
	e := ending{proc: i}
	for _, oc := range c.h.open(i) {
		if !c.h.stillHeld(i, oc.key) {
			continue
		}
		switch oc.state {
		case evClaim:
			e.notStarted++
		case evStart:
			e.running++
		default:
			e.uncommitted++
		}
		if at, ok := c.h.resolved(oc.key, i, t); ok {
			e.waits = append(e.waits, at.Sub(t))
		} else {
			e.unresolved++
		}
	}
	return e
}
