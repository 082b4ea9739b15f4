package consume

// job is one message on its way to a final outcome.
type job[M, V any] struct {
	msg     M
	offset  int64
	key     string    // the idempotency key; "" when processed without one
	print   []byte    // the payload's fingerprint (nil: none)
	keyErr  error     // the key is missing or invalid, under KeyReject or KeyDeadLetter
	t       ticket[V] // the key's current ticket; nil when none is held
	claim   error     // what t says: nil (held), *dedupe.ConflictError[V] or dedupe.ErrInProgress
	ended   bool      // t.End was called: t.Result decides the outcome
	ran     bool      // the handler succeeded: value is its outcome, and it never runs again
	value   V         // what the handler ended with, committed again if its first commit failed
	done    bool      // the outcome is final
	outcome Outcome
	gate    <-chan struct{} // ByKey: closed once the previous batch's chain of this order key is done
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
		if !j.done {
			out = append(out, j)
		}
	}
	return out
}
