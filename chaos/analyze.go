package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/idemq/idemq/internal/kafkaadmin"
)

// topicResult is what one consumer group's journals show.
type topicResult struct {
	title       string
	role        string
	produced    int
	keys        int
	effects     int
	lost        []string // keys without any effect
	doubleKeys  int      // keys with more than one effect
	byClass     map[byte]int
	bound       int // (a)'s bound: the handlers in flight at this role's SIGKILLs
	atRisk      int // (b)'s: keys claimed or committed within the lost window of a Redis restart
	restartLost int // of (b), those whose won commit the restart lost (the others were in flight)
	duplicates  int // duplicates acked without running the handler
	rolledBack  int // -store postgres: effects written in a transaction that did not commit (journaled, no row)
	deadStarts  int // handlers called with their ctx already cancelled
	lag         int64
	lagParts    int
	rate        float64 // produced per second
	stats       map[string]int64
}

// faultResult is one fault with what it did.
type faultResult struct {
	injected
	ending   *ending // SIGKILL, SIGTERM
	doubles  map[byte]int
	atRisk   int
	recovery []recovery // per topic
}

// analyze reads every journal and builds the report. Redis is still up:
// the records of unexplained doubles are read for the evidence.
func (r *run) analyze(ctx context.Context) (*report, error) {
	h, err := loadHistory(r.fleet.all())
	if err != nil {
		return nil, err
	}
	if r.cfg.postgres() {
		if r.effectRows, err = readEffects(ctx, pgURL(r.pg.addr())); err != nil {
			return nil, err
		}
	}
	c := newClassifier(h, r.done)
	rep := &report{cfg: r.cfg, id: r.id, dir: r.dir, began: r.began, crashes: r.crashes,
		drained: !r.drained.IsZero(), elapsed: time.Since(r.began)}
	if rep.drained {
		rep.drain = r.drained.Sub(r.produced)
	}
	for _, f := range r.done {
		rep.faults = append(rep.faults, &faultResult{injected: f, doubles: map[byte]int{}})
	}
	for _, t := range r.topics {
		rep.topics = append(rep.topics, r.topicResult(h, c, t, rep))
	}
	r.faultDetails(h, c, rep)
	rep.dlt = r.deadLettered(ctx)
	rep.races = racy(h.procs)
	rep.badStops = badStops(h.procs)
	r.evidence(ctx, h, rep)
	return rep, nil
}

func (r *run) topicResult(h *history, c *classifier, t *topic, rep *report) topicResult {
	tr := topicResult{title: t.title, role: t.role, produced: len(t.msgs), keys: len(t.keys), byClass: map[byte]int{},
		rate: float64(len(t.msgs)) / r.cfg.Duration.Seconds(), stats: h.stats(t.role)}
	keys := make([]string, 0, len(t.keys))
	for k := range t.keys {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		n := 0
		for _, ref := range h.keys[k] {
			switch ref.kind {
			case evEffect:
				n++
			case evDuplicate:
				tr.duplicates++
			case evDeadStart:
				tr.deadStarts++
			}
		}
		if r.cfg.postgres() { // the rows are the effects; the journal's were written, maybe rolled back
			rows := len(r.effectRows[k])
			tr.rolledBack += max(n-rows, 0)
			n = rows
		}
		tr.effects += n
		switch {
		case n == 0:
			tr.lost = append(tr.lost, k)
		case n > 1 && r.cfg.postgres(): // no fault excuses a second row
			tr.doubleKeys++
			for range n - 1 {
				tr.byClass[classOther]++
				rep.doubles = append(rep.doubles, double{key: k, role: t.role, class: classOther, fault: -1,
					note: fmt.Sprintf("%d effect rows in PostgreSQL", n)})
			}
		case n > 1:
			tr.doubleKeys++
			for _, d := range c.doubles(k, t.role) {
				tr.byClass[d.class]++
				if d.note == restartLost {
					tr.restartLost++
				}
				rep.doubles = append(rep.doubles, d)
				if d.fault >= 0 {
					rep.faults[d.fault].doubles[d.class]++
				}
			}
		}
	}
	for _, n := range t.lag {
		tr.lag += n
		if n != 0 {
			tr.lagParts++
		}
	}
	return tr
}

// faultDetails adds to every fault what its process left behind, the keys
// a Redis restart put at risk, and each topic's recovery.
func (r *run) faultDetails(h *history, c *classifier, rep *report) {
	progress := make([][]time.Time, len(r.topics))
	for i, t := range r.topics {
		progress[i] = h.progress(t.role)
	}
	rep.timeline = timeline(rep.topics, progress, rep.faults, r.began, time.Now(), r.cfg.postgres())
	for _, f := range rep.faults {
		switch {
		case f.proc != nil:
			pi := slices.Index(h.procs, f.proc)
			e := c.endingOf(pi, f.proc.exitAt)
			f.ending = &e
			if f.kind == faultKill {
				rep.topicOf(f.proc.role).bound += e.inFlight()
			}
		case f.kind.redis() && !f.up.IsZero():
			for role, n := range atRisk(h, f) {
				f.atRisk += n
				rep.topicOf(role).atRisk += n
			}
		}
		for i := range r.topics {
			f.recovery = append(f.recovery, recoveryOf(progress[i], f, rep.topics[i].rate))
		}
	}
}

// atRisk counts, per role, the keys some process claimed, committed or ran
// within the restart's lost window: those whose record the restart may
// have lost.
func atRisk(h *history, f *faultResult) map[string]int {
	n := map[string]int{}
	from := f.start.Add(-aofWindow)
	for _, refs := range h.keys {
		for _, ref := range refs {
			if (ref.kind == evClaim || ref.kind == evCommit || ref.kind == evEffect) && !ref.at.Before(from) && !ref.at.After(f.up) {
				n[h.procs[ref.proc].role]++
				break
			}
		}
	}
	return n
}

func (r *run) deadLettered(ctx context.Context) int64 {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	ends, err := kafkaadmin.EndOffsets(ctx, r.admin.client, r.dlt, 1)
	if err != nil {
		return -1
	}
	return ends[0]
}

// evidence writes, for each lost key and each unexplained double (up to
// 20 of each), the key's journal events and which process's commit the
// guard's record holds now.
func (r *run) evidence(ctx context.Context, h *history, rep *report) {
	var keys []string
	for _, t := range rep.topics {
		for _, k := range t.lost[:min(len(t.lost), 20)] {
			keys = append(keys, k)
			rep.evidence = append(rep.evidence, fmt.Sprintf("lost %s: %s", k, orNone(h.describe(k, r.began))))
		}
	}
	shown := map[byte]int{}
	for _, d := range rep.doubles {
		switch {
		case d.class == classOther && shown[d.class] < 20:
			keys = append(keys, d.key)
			rep.evidence = append(rep.evidence, fmt.Sprintf("unexplained double %s (%s): %s", d.key, d.note, h.describe(d.key, r.began)))
		case d.class != classOther && r.cfg.Verbose && shown[d.class] < 3: // -v: a few explained ones, to check the classes
			rep.evidence = append(rep.evidence, fmt.Sprintf("(%c) double %s, explained by fault %d: %s", d.class, d.key, d.fault+1, h.describe(d.key, r.began)))
		default:
			continue
		}
		shown[d.class]++
	}
	if len(keys) == 0 {
		return
	}
	if r.cfg.postgres() {
		for _, k := range keys {
			rep.evidence = append(rep.evidence, fmt.Sprintf("effect rows of %s: %s", k, orNone(describeRows(r.effectRows[k], r.began))))
		}
		return
	}
	records, err := readRecords(ctx, r.redis.addr(), r.prefix(), keys, wmStoreKey)
	if err != nil {
		rep.evidence = append(rep.evidence, "reading the guard's records: "+err.Error())
		return
	}
	for _, k := range keys {
		rep.evidence = append(rep.evidence, fmt.Sprintf("record of %s now: %s", k, records[k]))
	}
}

// racy returns the processes whose log holds a race detector's report
// (workers built with -race).
func racy(procs []*proc) []string {
	var out []string
	for _, p := range procs {
		if b, err := os.ReadFile(p.log); err == nil && bytes.Contains(b, []byte("WARNING: DATA RACE")) {
			out = append(out, p.inst+" ("+p.log+")")
		}
	}
	return out
}

// badStops describes the processes that did not exit 0 after a SIGTERM
// (the graceful stop: Run must return nil), with the error they logged.
func badStops(procs []*proc) []string {
	var out []string
	for _, p := range procs {
		if p.signal != sigTerm || p.exitErr == nil {
			continue
		}
		why := p.exitErr.Error()
		if b, err := os.ReadFile(p.log); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if strings.HasPrefix(line, "chaos: worker ") {
					why = line
				}
			}
		}
		out = append(out, why)
	}
	return out
}

func orNone(s string) string {
	if s == "" {
		return "no event in any journal"
	}
	return s
}
