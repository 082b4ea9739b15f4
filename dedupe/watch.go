package dedupe

import "context"

// goWatch starts the goroutine that turns the key's events into an abort of
// fn: a commit by another run (or, with check, a value already stored) cancels
// fn with a *ConflictError; the store closing cancels it with ErrStoreClosed.
func (x *execution[V]) goWatch(ctx context.Context, interest Interest, stop <-chan struct{}, check bool) {
	x.wg.Go(func() {
		if check {
			x.reread(ctx)
		}
		for {
			select {
			case <-stop:
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
	if x.endCalled() {
		return // our own commit's notification, or too late to matter
	}
	switch ev.Kind {
	case EventCommit:
		x.abort(x.g.conflict(ev.Value, nil))
	case EventResync:
		x.reread(ctx)
	}
}

// reread aborts fn if the key holds a committed value; a failed read aborts
// it with the read error (the commit could not succeed either).
func (x *execution[V]) reread(ctx context.Context) {
	rec, err := x.g.store.Get(ctx, x.g.key)
	switch {
	case err != nil && ctx.Err() == nil:
		x.abort(x.g.storeErr("reading", err))
	case err == nil && rec.State == Committed:
		x.abort(x.g.conflict(rec.Value, nil))
	}
}
