package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// report is a run's outcome.
type report struct {
	cfg      config
	id, dir  string
	began    time.Time
	topics   []topicResult
	faults   []*faultResult
	doubles  []double
	evidence []string
	timeline []string
	crashes  int
	races    []string // workers whose log holds a data race report
	badStops []string // workers that failed a graceful stop, with their error
	drained  bool
	drain    time.Duration // from the producer's end until lag 0
	elapsed  time.Duration // from the producer's start until the analysis
	dlt      int64         // messages on the dead-letter topic
}

func (r *report) topicOf(role string) *topicResult {
	for i := range r.topics {
		if r.topics[i].role == role {
			return &r.topics[i]
		}
	}
	return nil
}

func (r *report) pass() bool { return len(r.failures()) == 0 }

// failures lists why the run fails: loss, unexplained doubles, doubles
// over a kill's bound, lag left, a crashed worker.
func (r *report) failures() []string {
	var out []string
	for _, t := range r.topics {
		if len(t.lost) > 0 {
			out = append(out, fmt.Sprintf("%s: %d keys lost (no effect)", t.title, len(t.lost)))
		}
		switch n := t.byClass[classOther]; {
		case n > 0 && r.cfg.postgres():
			out = append(out, fmt.Sprintf("%s: %d keys with more than one effect row", t.title, t.doubleKeys))
		case n > 0:
			out = append(out, fmt.Sprintf("%s: %d unexplained double effects", t.title, n))
		}
		if t.lag != 0 {
			out = append(out, fmt.Sprintf("%s: lag %d on %d partitions at the end", t.title, t.lag, t.lagParts))
		}
	}
	for i, f := range r.faults {
		if f.ending != nil && f.doubles[classKilled] > f.ending.inFlight() {
			out = append(out, fmt.Sprintf("fault %d: %d double effects, over the bound of %d handlers in flight", i+1, f.doubles[classKilled], f.ending.inFlight()))
		}
		if f.err != nil {
			out = append(out, fmt.Sprintf("fault %d (%s) failed: %v", i+1, f.kind, f.err))
		}
	}
	if !r.drained {
		out = append(out, fmt.Sprintf("lag did not reach 0 within -drain %v", r.cfg.Drain))
	}
	if len(r.badStops) > 0 {
		out = append(out, fmt.Sprintf("%d workers failed their graceful stop (Run returned an error; see the evidence)", len(r.badStops)))
	}
	if len(r.races) > 0 {
		out = append(out, fmt.Sprintf("data races reported by %s", strings.Join(r.races, ", ")))
	}
	if r.crashes > 0 {
		out = append(out, fmt.Sprintf("%d worker processes exited on their own (see their logs)", r.crashes))
	}
	return out
}

func (r *report) write(w io.Writer) {
	fmt.Fprintf(w, "\nchaos run %s (-store %s), seed %d: %d faults\n\n", r.id, r.cfg.Store, r.cfg.Seed, len(r.faults))
	r.writeFaults(w)
	fmt.Fprintln(w)
	r.writeSummary(w)
	if len(r.timeline) > 0 {
		fmt.Fprintln(w)
		for _, l := range r.timeline {
			fmt.Fprintln(w, l)
		}
	}
	if len(r.badStops) > 0 {
		fmt.Fprintln(w, "\ngraceful stops that failed:")
		for _, e := range r.badStops {
			fmt.Fprintln(w, "  "+e)
		}
	}
	if len(r.evidence) > 0 {
		fmt.Fprintln(w, "\nevidence (times since the producer's start; C claim, S start, Z started with its ctx cancelled, E effect, K commit won, L release, N lease lost, D duplicate acked):")
		for _, e := range r.evidence {
			fmt.Fprintln(w, "  "+e)
		}
	}
	fmt.Fprintln(w)
	if f := r.failures(); len(f) > 0 {
		fmt.Fprintln(w, "FAIL: "+strings.Join(f, "; "))
		return
	}
	if r.cfg.postgres() {
		fmt.Fprintf(w, "PASS: every key has exactly one effect row in PostgreSQL, lag 0 (seed %d, -store postgres)\n", r.cfg.Seed)
		return
	}
	fmt.Fprintf(w, "PASS: no key lost, every double effect explained by a fault and within its bound, lag 0 (seed %d)\n", r.cfg.Seed)
}

// writeFaults prints one row per fault.
func (r *report) writeFaults(w io.Writer) {
	t := &table{left: []int{2, 3}}
	head := []string{"#", "at", "fault", "detail", "held", "running", "uncommitted", "doubles a/b/c", "stranded wait max", "p50"}
	if r.cfg.postgres() { // every double fails the run, whatever the fault: the verdict is the summary's
		head = slices.Delete(head, 7, 8)
	}
	for _, tr := range r.topics {
		head = append(head, "stall "+short(tr.title), "back "+short(tr.title))
	}
	t.add(head...)
	for i, f := range r.faults {
		row := []string{itoa(i + 1), seconds(f.start.Sub(r.began)), f.kind.String(), f.describe()}
		row = append(row, f.endingCells()...)
		if !r.cfg.postgres() {
			row = append(row, fmt.Sprintf("%d/%d/%d", f.doubles[classKilled], f.doubles[classRestart], f.doubles[classOther]))
		}
		row = append(row, f.strandCells()...)
		for _, rec := range f.recovery {
			back := "> " + seconds(recoveryHorizon)
			if rec.ok {
				back = seconds(rec.back)
			}
			row = append(row, seconds(rec.stall), back)
		}
		t.add(row...)
	}
	t.write(w)
	if r.cfg.postgres() {
		fmt.Fprintln(w, "held: transactions holding a key when the process ended (rolled back by the server); running: of those,")
		fmt.Fprintln(w, "effect not written yet; uncommitted: effect row written, COMMIT not answered; stranded wait: from the end")
	} else {
		fmt.Fprintln(w, "held: claims the process held when it ended; running: of those, handlers started, no effect yet;")
		fmt.Fprintln(w, "uncommitted: effect done, commit not landed (the bound for (a) doubles); stranded wait: from the end")
	}
	fmt.Fprintln(w, "until another process ran, committed or acked each held key; stall k/w/f: the longest stretch without a final")
	fmt.Fprintln(w, "outcome on the topic that began during the fault or its consequences (for a kill: until its held keys")
	fmt.Fprintln(w, "were resolved); back: from the fault until, after that stall, throughput was at half the production rate.")
}

func (f *faultResult) endingCells() []string {
	if f.ending == nil {
		if f.kind.redis() {
			return []string{"-", "-", fmt.Sprintf("%d at risk", f.atRisk)}
		}
		return []string{"-", "-", "-"}
	}
	e := f.ending
	return []string{itoa(e.held()), itoa(e.running), itoa(e.uncommitted)}
}

func (f *faultResult) strandCells() []string {
	if f.ending == nil || f.ending.held() == 0 {
		return []string{"-", "-"}
	}
	e := f.ending
	maxCell := seconds(e.maxWait())
	if e.unresolved > 0 {
		maxCell += fmt.Sprintf(" (%d never)", e.unresolved)
	}
	return []string{maxCell, seconds(median(e.waits))}
}

func short(title string) string { return strings.ToLower(title[:1]) }

// writeSummary prints the totals per topic and the verdict's numbers.
func (r *report) writeSummary(w io.Writer) {
	t := &table{left: []int{0}}
	head := []string{""}
	for _, tr := range r.topics {
		head = append(head, tr.title)
	}
	t.add(head...)
	row := func(label string, cell func(tr topicResult) string) {
		cells := []string{label}
		for _, tr := range r.topics {
			cells = append(cells, cell(tr))
		}
		t.add(cells...)
	}
	row("messages produced", func(tr topicResult) string { return itoa(tr.produced) })
	row("unique keys", func(tr topicResult) string { return itoa(tr.keys) })
	if r.cfg.postgres() {
		row("effect rows in PostgreSQL", func(tr topicResult) string { return itoa(tr.effects) })
		row("effects written and rolled back", func(tr topicResult) string { return itoa(tr.rolledBack) })
		row("duplicates acked without running", func(tr topicResult) string { return itoa(tr.duplicates) })
		row("handlers called with ctx cancelled", func(tr topicResult) string { return itoa(tr.deadStarts) })
		row("LOST keys (no effect row)", func(tr topicResult) string { return itoa(len(tr.lost)) })
		row("DOUBLE keys (more than one row)", func(tr topicResult) string { return itoa(tr.doubleKeys) })
	} else {
		r.writeRedisRows(row)
	}
	row("group lag at the end", func(tr topicResult) string { return itoa(tr.lag) })
	row("store errors (retried)", func(tr topicResult) string { return stat(tr, "storeerrors") })
	row("generations joined (all members)", func(tr topicResult) string { return stat(tr, "generations") })
	if r.topicOf(roleFranz) != nil {
		row("partitions assigned/revoked/lost", func(tr topicResult) string {
			if _, ok := tr.stats["assigned"]; !ok {
				return "-"
			}
			return stat(tr, "assigned") + "/" + stat(tr, "revoked") + "/" + stat(tr, "lost")
		})
	}
	t.write(w)
	fmt.Fprintf(w, "dead-lettered: %d; crashed workers: %d; ", r.dlt, r.crashes)
	if r.drained {
		fmt.Fprintf(w, "lag 0 %s after the last message; ", seconds(r.drain))
	}
	fmt.Fprintf(w, "elapsed %s (producer %v)\n", seconds(r.elapsed), r.cfg.Duration)
	r.writeKinds(w)
}

// writeRedisRows adds the summary's rows of -store redis: the effects the
// journals show, and their doubles by class.
func (r *report) writeRedisRows(row func(label string, cell func(tr topicResult) string)) {
	row("effects (handler runs that wrote one)", func(tr topicResult) string { return itoa(tr.effects) })
	row("duplicates acked without running", func(tr topicResult) string { return itoa(tr.duplicates) })
	row("handlers called with ctx cancelled", func(tr topicResult) string { return itoa(tr.deadStarts) })
	row("LOST keys (no effect)", func(tr topicResult) string { return itoa(len(tr.lost)) })
	row("keys with more than one effect", func(tr topicResult) string { return itoa(tr.doubleKeys) })
	row("  (a) SIGKILLed in flight / bound", func(tr topicResult) string {
		return fmt.Sprintf("%d / %d", tr.byClass[classKilled], tr.bound)
	})
	row("  (b) across a Redis restart / at risk", func(tr topicResult) string {
		return fmt.Sprintf("%d / %d", tr.byClass[classRestart], tr.atRisk)
	})
	row("      of which a won commit was lost", func(tr topicResult) string { return itoa(tr.restartLost) })
	row("  (c) UNEXPLAINED", func(tr topicResult) string { return itoa(tr.byClass[classOther]) })
}

func stat(tr topicResult, name string) string {
	if v, ok := tr.stats[name]; ok {
		return itoa(v)
	}
	return "-"
}

// writeKinds prints, per kind of fault, how many and the worst recovery.
func (r *report) writeKinds(w io.Writer) {
	var lines []string
	for k := range faultKind(len(faultNames)) {
		n, worstBack, worstStall, worstStrand := 0, time.Duration(0), time.Duration(0), time.Duration(0)
		for _, f := range r.faults {
			if f.kind != k {
				continue
			}
			n++
			for _, rec := range f.recovery {
				worstBack, worstStall = max(worstBack, rec.back), max(worstStall, rec.stall)
			}
			if f.ending != nil {
				worstStrand = max(worstStrand, f.ending.maxWait())
			}
		}
		if n == 0 {
			continue
		}
		l := fmt.Sprintf("  %-17s x%d  worst stall %s, back within %s", k, n, seconds(worstStall), seconds(worstBack))
		if k == faultKill || k == faultTerm {
			l += fmt.Sprintf(", held keys resolved within %s", seconds(worstStrand))
		}
		lines = append(lines, l)
	}
	fmt.Fprintln(w, "recovery per kind of fault:")
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
}

// table prints rows with columns aligned: those in left to the left, the
// rest to the right.
type table struct {
	rows [][]string
	left []int
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) {
	var widths []int
	for _, row := range t.rows {
		for i, c := range row {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], len(c))
		}
	}
	for _, row := range t.rows {
		var b strings.Builder
		for i, c := range row {
			if i > 0 {
				b.WriteString("  ")
			}
			if slices.Contains(t.left, i) {
				fmt.Fprintf(&b, "%-*s", widths[i], c)
			} else {
				fmt.Fprintf(&b, "%*s", widths[i], c)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
