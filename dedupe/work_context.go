package dedupe

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// workContext is the context Ticket.Context returns, and fn's in Run:
// parent, also cancelled when the lease is lost (or the guard aborts fn)
// or when the work is over. It makes its context.WithCancelCause child of
// parent only when someone needs it: the first Done, or an Err or Value
// once it has ended. Work that never looks at Done (most often, work that
// finishes at once) costs no child context, no registration with parent,
// and no lock of the Batch at cancel; work that does costs what
// context.WithCancelCause costs. Cancelling it goes through end and
// finish, so context.Cause reports the same cause as a
// context.WithCancelCause child would.
type workContext struct {
	parent context.Context
	ended  atomic.Bool                     // lose or finish was called
	made   atomic.Pointer[context.Context] // the child, once made

	mu     sync.Mutex
	cancel context.CancelCauseFunc // the child's, once made
	cause  error                   // why it ended, once it has
}

var _ context.Context = (*workContext)(nil)

func (c *workContext) Deadline() (time.Time, bool) { return c.parent.Deadline() }

func (c *workContext) Done() <-chan struct{} { return c.child().Done() }

// Err is parent's until the context has ended or its child was made, and
// the child's after.
func (c *workContext) Err() error {
	if !c.ended.Load() && c.made.Load() == nil {
		return c.parent.Err()
	}
	return c.child().Err()
}

// Value is parent's until the context has ended or its child was made, and
// the child's after: context.Cause finds the child's cause through it.
func (c *workContext) Value(key any) any {
	if !c.ended.Load() && c.made.Load() == nil {
		return c.parent.Value(key)
	}
	return c.child().Value(key)
}

// child returns the child context, made (and cancelled, if the context has
// ended) on first use.
func (c *workContext) child() context.Context {
	if m := c.made.Load(); m != nil {
		return *m
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if m := c.made.Load(); m != nil {
		return *m
	}
	ctx, cancel := context.WithCancelCause(c.parent)
	if c.cause != nil {
		cancel(c.cause)
	}
	c.cancel = cancel
	c.made.Store(&ctx)
	return ctx
}

// end cancels the context with cause, unless it has ended already.
func (c *workContext) end(cause error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cause != nil {
		return
	}
	c.cause = cause
	c.ended.Store(true)
	if c.cancel != nil {
		c.cancel(cause)
	}
}

// finish is the cancel func of Ticket.Context: the work is done.
func (c *workContext) finish() { c.end(context.Canceled) }

// live reports whether the context has not ended: lose still has to cancel it.
func (c *workContext) live() bool { return !c.ended.Load() }
