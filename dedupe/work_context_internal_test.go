package dedupe

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestWorkContextCauseFirst checks that context.Cause, asked first after
// the context ended (no Done or Err before), reports the end's cause.
func TestWorkContextCauseFirst(t *testing.T) {
	t.Parallel()
	parent, cancelParent := context.WithCancelCause(context.Background())
	defer cancelParent(nil)
	c := &workContext{parent: parent}
	c.end(ErrLeaseLost)
	if got := context.Cause(c); got != ErrLeaseLost {
		t.Errorf("Cause = %v, want %v", got, ErrLeaseLost)
	}
}

// TestWorkContextActsAsWithCancelCause checks the context of
// Ticket.Context against what a context.WithCancelCause child of the same
// parent would report, whether or not Done was called before it ended.
func TestWorkContextActsAsWithCancelCause(t *testing.T) {
	t.Parallel()
	parentCause := errors.New("parent's cause")
	cases := map[string]struct {
		end       func(c *workContext, cancelParent context.CancelCauseFunc)
		wantCause error
	}{
		"LostBeforeDone":  {func(c *workContext, _ context.CancelCauseFunc) { c.end(ErrLeaseLost) }, ErrLeaseLost},
		"Finished":        {func(c *workContext, _ context.CancelCauseFunc) { c.finish() }, context.Canceled},
		"ParentCancelled": {func(_ *workContext, p context.CancelCauseFunc) { p(parentCause) }, parentCause},
		"LostThenFinished": {func(c *workContext, _ context.CancelCauseFunc) {
			c.end(ErrLeaseLost)
			c.finish()
		}, ErrLeaseLost},
	}
	for name, tc := range cases {
		for _, doneFirst := range []bool{false, true} {
			t.Run(name+map[bool]string{false: "", true: "AfterDone"}[doneFirst], func(t *testing.T) {
				t.Parallel()
				parent, cancelParent := context.WithCancelCause(context.WithValue(context.Background(), ctxKey{}, "v"))
				defer cancelParent(nil)
				c := &workContext{parent: parent}
				var done <-chan struct{}
				if doneFirst {
					done = c.Done()
				}
				if err := c.Err(); err != nil {
					t.Fatalf("Err before the end = %v, want nil", err)
				}
				tc.end(c, cancelParent)
				if done == nil {
					done = c.Done()
				}
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					t.Fatal("Done not closed after the end")
				}
				if got := c.Err(); got != context.Canceled {
					t.Errorf("Err = %v, want context.Canceled", got)
				}
				if got := context.Cause(c); got != tc.wantCause {
					t.Errorf("Cause = %v, want %v", got, tc.wantCause)
				}
				if got := c.Value(ctxKey{}); got != "v" {
					t.Errorf("Value = %v, want the parent's value", got)
				}
			})
		}
	}
}

// TestWorkContextChildSeesLoss checks that a context derived from the work
// context before the loss ends with the loss's cause.
func TestWorkContextChildSeesLoss(t *testing.T) {
	t.Parallel()
	c := &workContext{parent: context.Background()}
	child, cancel := context.WithTimeout(c, time.Minute)
	defer cancel()
	c.end(ErrLeaseLost)
	select {
	case <-child.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the derived context did not end")
	}
	if got := context.Cause(child); got != ErrLeaseLost {
		t.Errorf("Cause of the derived context = %v, want ErrLeaseLost", got)
	}
}

type ctxKey struct{}
