package main

import (
	"sort"
	"time"
)

// Recovery after a fault is read from progress: the times at which a
// topic's messages reached a final outcome (a commit won, a duplicate
// acked), from every journal.

// Bounds of the recovery analysis.
const (
	recoveryHorizon = 60 * time.Second       // how far after a fault recovery is looked for
	stallSlack      = 500 * time.Millisecond // a stall that began this much before a fault is still its own
)

// stallIn is the longest stretch without progress that began within
// [from-stallSlack, to]: the stall a fault whose consequences span
// [from, to] caused. A stall already under way before it is another
// fault's. It returns when the stall ended (progress resumed).
func stallIn(progress []time.Time, from, to time.Time) (time.Duration, time.Time) {
	i := sort.Search(len(progress), func(i int) bool { return !progress[i].Before(from.Add(-stallSlack)) })
	var longest time.Duration
	var resumed time.Time
	for ; i < len(progress) && !progress[i].After(to); i++ {
		next := to.Add(recoveryHorizon) // no progress since: stalled past the horizon
		if i+1 < len(progress) {
			next = progress[i+1]
		}
		if gap := next.Sub(progress[i]); gap > longest {
			longest, resumed = gap, next
		}
	}
	return longest, resumed
}

// backAt is the first time at or after t from which the topic makes at
// least half its production rate (perSecond) within one second. ok is
// false if that did not happen within the horizon.
func backAt(progress []time.Time, t time.Time, perSecond float64) (time.Time, bool) {
	need := max(1, int(perSecond/2))
	i := sort.Search(len(progress), func(i int) bool { return !progress[i].Before(t) })
	for j := i; j < len(progress) && progress[j].Sub(t) < recoveryHorizon; j++ {
		end := sort.Search(len(progress), func(k int) bool { return !progress[k].Before(progress[j].Add(time.Second)) })
		if end-j >= need {
			return progress[j], true
		}
	}
	return time.Time{}, false
}

// recovery is one topic's view of a fault.
type recovery struct {
	stall time.Duration // the longest stretch without progress the fault caused
	back  time.Duration // from the fault's start until, after that stall, throughput was at half the rate or more
	ok    bool          // back within the horizon
}

// significantStall is the shortest stall counted as one: below it the
// topic merely slowed down.
const significantStall = time.Second

func recoveryOf(progress []time.Time, f *faultResult, perSecond float64) recovery {
	var rec recovery
	var resumed time.Time
	rec.stall, resumed = stallIn(progress, f.start, f.consequencesEnd())
	from := f.start
	if rec.stall >= significantStall {
		from = resumed
	}
	if at, ok := backAt(progress, from, perSecond); ok {
		rec.back, rec.ok = at.Sub(f.start), true
	}
	return rec
}

// consequencesEnd is when a fault stops acting: the thaw or the end of the
// latency, Redis answering again, or for a process the last of its held
// claims resolved by another one.
func (f *faultResult) consequencesEnd() time.Time {
	end := f.end
	if f.kind.redis() {
		end = f.up
	}
	if f.ending != nil {
		end = end.Add(f.ending.maxWait())
	}
	return end
}
