package main

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// history is every worker's journal, indexed for the analysis.
type history struct {
	procs  []*proc
	events [][]event        // per process, in journal order
	keys   map[string][]ref // per key, every process's events of it, in time order
	opened map[int][]openClaim
}

// ref is one journal event of a key.
type ref struct {
	at   time.Time
	kind byte
	proc int // index in history.procs
}

// loadHistory reads every process's journal.
func loadHistory(procs []*proc) (*history, error) {
	events := make([][]event, len(procs))
	for i, p := range procs {
		evs, err := readJournal(p.journal)
		if err != nil {
			return nil, err
		}
		events[i] = evs
	}
	return newHistory(procs, events), nil
}

// newHistory indexes events[i], the journal of procs[i].
func newHistory(procs []*proc, events [][]event) *history {
	h := &history{procs: procs, events: events, keys: map[string][]ref{}, opened: map[int][]openClaim{}}
	for i, evs := range events {
		for _, e := range evs {
			if e.kind != evStats && e.kind != evExit {
				h.keys[e.key] = append(h.keys[e.key], ref{at: e.at, kind: e.kind, proc: i})
			}
		}
	}
	for _, refs := range h.keys {
		slices.SortStableFunc(refs, func(a, b ref) int { return a.at.Compare(b.at) })
	}
	return h
}

// effects returns the key's effects, in time order.
func (h *history) effects(key string) []ref {
	var out []ref
	for _, r := range h.keys[key] {
		if r.kind == evEffect {
			out = append(out, r)
		}
	}
	return out
}

// openClaim is a key a process still held when it ended: claimed and not
// committed or released.
type openClaim struct {
	key   string
	state byte // evClaim: not started; evStart: its handler running; evEffect: the effect done, commit not landed
}

// open returns the claims process i held when it ended, in key order.
func (h *history) open(i int) []openClaim {
	if oc, ok := h.opened[i]; ok {
		return oc
	}
	held := map[string]byte{}
	for _, e := range h.events[i] {
		switch e.kind {
		case evClaim:
			held[e.key] = evClaim
		case evStart, evEffect:
			if _, ok := held[e.key]; ok {
				held[e.key] = e.kind
			}
		case evCommit, evRelease, evLost:
			delete(held, e.key)
		}
	}
	out := make([]openClaim, 0, len(held))
	for k, s := range held {
		out = append(out, openClaim{k, s})
	}
	slices.SortFunc(out, func(a, b openClaim) int { return cmp.Compare(a.key, b.key) })
	h.opened[i] = out
	return out
}

// heldAtEnd reports whether process i's journal ends with key claimed and
// its effect done: the commit had not landed (or landed after the last
// journal line). Whether the claim was still in Redis is stillHeld's
// question.
func (h *history) heldAtEnd(i int, key string) bool {
	for _, c := range h.open(i) {
		if c.key == key {
			return c.state == evEffect
		}
	}
	return false
}

// stillHeld reports whether no other process claimed key between process
// i's last claim of it and i's end: if one did, i's claim was gone by then
// (lost by a Redis crash, or expired) although i never learnt it.
func (h *history) stillHeld(i int, key string) bool {
	var last time.Time
	for _, r := range h.keys[key] {
		if r.proc == i && r.kind == evClaim {
			last = r.at
		}
	}
	end := h.procs[i].exitAt
	for _, r := range h.keys[key] {
		if r.proc != i && r.kind == evClaim && r.at.After(last) && (end.IsZero() || !r.at.After(end)) {
			return false
		}
	}
	return true
}

// touched reports whether process i claimed, committed or ran key's effect
// within [from, to].
func (h *history) touched(i int, key string, from, to time.Time) bool {
	for _, r := range h.keys[key] {
		if r.proc == i && (r.kind == evClaim || r.kind == evCommit || r.kind == evEffect) &&
			!r.at.Before(from) && !r.at.After(to) {
			return true
		}
	}
	return false
}

// claimedIn reports whether process i claimed key within [from, to].
func (h *history) claimedIn(i int, key string, from, to time.Time) bool {
	for _, r := range h.keys[key] {
		if r.proc == i && r.kind == evClaim && !r.at.Before(from) && !r.at.After(to) {
			return true
		}
	}
	return false
}

// committed reports whether process i's commit of key won within [from, to].
func (h *history) committed(i int, key string, from, to time.Time) bool {
	for _, r := range h.keys[key] {
		if r.proc == i && r.kind == evCommit && !r.at.Before(from) && !r.at.After(to) {
			return true
		}
	}
	return false
}

// resolved returns when, after t, a process other than i first ran key's
// effect, committed it or acked a duplicate of it.
func (h *history) resolved(key string, i int, t time.Time) (time.Time, bool) {
	for _, r := range h.keys[key] {
		if r.proc != i && r.at.After(t) && (r.kind == evEffect || r.kind == evCommit || r.kind == evDuplicate) {
			return r.at, true
		}
	}
	return time.Time{}, false
}

// progress returns the times at which role's messages reached a final
// outcome (a commit won or a duplicate acked), sorted.
func (h *history) progress(role string) []time.Time {
	var out []time.Time
	for i, p := range h.procs {
		if p.role != role {
			continue
		}
		for _, e := range h.events[i] {
			if e.kind == evCommit || e.kind == evDuplicate {
				out = append(out, e.at)
			}
		}
	}
	slices.SortFunc(out, time.Time.Compare)
	return out
}

// stats sums the last counters each process of role journaled.
func (h *history) stats(role string) map[string]int64 {
	sum := map[string]int64{}
	for i, p := range h.procs {
		if p.role != role {
			continue
		}
		last := ""
		for _, e := range h.events[i] {
			if e.kind == evStats {
				last = e.key
			}
		}
		for _, kv := range strings.Split(last, ",") {
			name, v, ok := strings.Cut(kv, "=")
			if n, err := strconv.ParseInt(v, 10, 64); ok && err == nil {
				sum[name] += n
			}
		}
	}
	return sum
}

// describe lists key's events for a bug report, times relative to t0.
func (h *history) describe(key string, t0 time.Time) string {
	var b strings.Builder
	for _, r := range h.keys[key] {
		if r.kind == evStart {
			continue
		}
		b.WriteString(" " + string(r.kind) + "@" + h.procs[r.proc].inst + "+" + seconds(r.at.Sub(t0)))
	}
	return strings.TrimSpace(b.String())
}
