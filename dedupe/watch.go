package dedupe

import "context"

// goWatch starts the optimistic mode's watcher, which turns the key's events
// into an abort of fn: a commit by another run (or, with check, a value already stored)
// cancels fn with a *ConflictError; the store closing cancels it with
// ErrStoreClosed. Any other event (a release, a resync after a reconnect)
// means notifications may have been missed: the key is read again.
func (x *execution[V]) goWatch(ctx context.Context, interest Interest, check bool) {
	x.wg.Go(func() {
		if check {
			x.reread(ctx)
		}
		for {
			select {
			case <-x.stop:
				return
			case ev, ok := <-interest.Events():
				if !ok {
					x.abort(ErrStoreClosed)
					return
				}
				x.handle(ctx, ev)
			}
		}
	})
}

func (x *execution[V]) handle(ctx context.Context, ev Event) {
	if x.endCount() > 0 {
		return // our own commit's notification, or too late to matter
	}
	if ev.Kind == EventCommit {
		x.abort(x.g.conflict(ev.Token, ev.Value, nil))
		return
	}
	x.reread(ctx)
}

// reread reads the key and aborts fn if this run can no longer win: another
// run committed a value, or a claim-first run holds the key (this run's
// commit would fail with ErrInProgress). A failed read aborts fn with the
// read error.
func (x *execution[V]) reread(ctx context.Context) {
	rec, err := x.g.store.Get(ctx, x.g.key)
	switch {
	case err != nil && ctx.Err() == nil:
		x.abort(x.g.storeErr("reading", err))
	case err != nil, rec.State == Committed && rec.Token == x.g.token: // cancelled, or our own commit
	case rec.State == Committed:
		x.abort(x.g.conflict(rec.Token, rec.Value, nil))
	case rec.State == Claimed:
		x.abort(ErrInProgress)
	}
}
