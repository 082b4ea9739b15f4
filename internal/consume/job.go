package consume

import "github.com/idemq/idemq/consumer"

// job is one message on its way to a final outcome. Its state changes only
// through the methods in this file.
type job[M, V any] struct {
	msg    M
	offset int64
	key    string          // the idempotency key; "" when processed without one
	print  []byte          // the payload's fingerprint (nil: none)
	gate   <-chan struct{} // ByKey: closed once the previous batch's chain of this order key is done

	state   jobState
	keyErr  error            // the key is missing, invalid or reused, under KeyReject or KeyDeadLetter
	t       ticket[V]        // the key's current ticket; nil when none is held
	claim   error            // what t says: nil (held), *dedupe.ConflictError[V], dedupe.ErrInProgress, ...
	promote bool             // t was claimed on the full lease (dedupe.ClaimKey.Promote): no promotion to ask for
	ran     bool             // the handler succeeded: value is its outcome, and it never runs again
	value   V                // what the handler ended with, committed again if its first commit failed
	outcome consumer.Outcome // once done
}

// jobState is where a job stands.
type jobState uint8

const (
	jobNew     jobState = iota // no ticket: to be claimed (or run without a key)
	jobClaimed                 // t is this job's ticket; claim says what it found
	jobEnded                   // t.End was called: t.Result decides the outcome
	jobDone                    // the outcome is final
)

func (j *job[M, V]) ended() bool { return j.state == jobEnded }
func (j *job[M, V]) done() bool  { return j.state == jobDone }

// claimed records a claim's ticket and what it found, and whether the
// claim was on the full lease.
func (j *job[M, V]) claimed(t ticket[V], claim error, promoted bool) {
	j.state, j.t, j.claim, j.promote = jobClaimed, t, claim, promoted
}

// reclaimed records what an Await of the job's ticket found (held,
// committed, reused, or still in progress).
func (j *job[M, V]) reclaimed(claim error) { j.claim = claim }

// unclaim forgets the job's ticket (released, dropped, or decided): the job
// is claimed again in the next wave unless it is done.
func (j *job[M, V]) unclaim() {
	if j.state != jobDone {
		j.state = jobNew
	}
	j.t, j.claim, j.promote = nil, nil, false
}

// invalid gives the job up as a job with an invalid key (a key reused for
// another payload): InvalidKey decides.
func (j *job[M, V]) invalid(err error) {
	j.unclaim()
	j.keyErr = err
}

// unkeyed makes the job run without a key (KeyProcess).
func (j *job[M, V]) unkeyed() { j.key, j.keyErr = "", nil }

// succeeded records the handler's value: from now on the job commits it and
// never runs the handler again.
func (j *job[M, V]) succeeded(v V) { j.ran, j.value = true, v }

// end marks the job's ticket as ended: its Result decides.
func (j *job[M, V]) end() { j.state = jobEnded }

// finish records the final outcome.
func (j *job[M, V]) finish(o consumer.Outcome) {
	j.state, j.outcome, j.t, j.claim = jobDone, o, nil, nil
}

// newJobs makes the jobs of a batch, in one allocation.
func (e *Engine[M, V]) newJobs(msgs []M) []*job[M, V] {
	slab := make([]job[M, V], len(msgs))
	jobs := make([]*job[M, V], len(msgs))
	for i, m := range msgs {
		j := &slab[i]
		j.msg, j.offset = m, e.cfg.Log.Offset(m)
		j.key, j.keyErr = e.key(m)
		if e.cfg.Fingerprint != nil && j.key != "" {
			j.print = e.cfg.Fingerprint(m)
		}
		jobs[i] = j
	}
	return jobs
}

// undone returns the jobs without a final outcome.
func undone[M, V any](jobs []*job[M, V]) []*job[M, V] {
	out := jobs[:0:0]
	for _, j := range jobs {
		if !j.done() {
			out = append(out, j)
		}
	}
	return out
}
