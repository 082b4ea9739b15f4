package dedupe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
)

// End commits value as the key's outcome. It does not block: it starts the
// commit, and Run waits for its result after fn returns. Call it once, when
// every step has succeeded and before fn returns.
type End[V any] func(value V)

// Func is the work a guard runs. ctx is cancelled when the guard learns that
// it cannot win (another run committed, the store closed, the lease was lost);
// context.Cause(ctx) says why (for a conflict, a *ConflictError[V]).
type Func[R, V any] func(ctx context.Context, end End[V]) (R, error)

// Run runs fn at most once per committed key across every process sharing
// store, and returns fn's result only after the store confirmed that this
// run's end(value) won. See the package documentation for the two modes, the
// guarantees, and what each error means for a message consumer.
func Run[R, V any](ctx context.Context, store Store, key string, fn Func[R, V], opts ...RunOption) (R, error) {
	var zero R
	cfg, err := newRunConfig(opts)
	if err != nil {
		return zero, err
	}
	if err := checkKey(key); err != nil {
		return zero, err
	}
	if store == nil || fn == nil {
		return zero, fmt.Errorf("%w: nil store or function", ErrInvalidOption)
	}
	if ctx.Err() != nil {
		return zero, context.Cause(ctx)
	}
	g := &guard[V]{store: store, key: key, cfg: cfg}
	interest, err := store.Watch(ctx, key)
	if err != nil {
		return zero, g.storeErr("watching", err)
	}
	defer interest.Close()

	token := ""
	if cfg.lease > 0 {
		if token, err = g.acquire(ctx, interest); err != nil {
			return zero, err
		}
	} else if !cfg.eager {
		if err := g.check(ctx); err != nil {
			return zero, err
		}
	}
	return execute(ctx, g, interest, token, fn)
}

// guard holds what one Run knows about its key.
type guard[V any] struct {
	store Store
	key   string
	cfg   runConfig
}

// check returns a *ConflictError if the key already holds a committed value.
func (g *guard[V]) check(ctx context.Context) error {
	rec, err := g.store.Get(ctx, g.key)
	if err != nil {
		return g.storeErr("reading", err)
	}
	if rec.State == Committed {
		return g.conflict(rec.Value, nil)
	}
	return nil
}

// conflict decodes the winner's value into a *ConflictError.
func (g *guard[V]) conflict(data []byte, reason error) error {
	var v V
	if err := g.cfg.codec.Decode(data, &v); err != nil {
		return &DecodeError{Key: g.key, Err: err}
	}
	return &ConflictError[V]{Key: g.key, Value: v, Err: reason}
}

// storeErr wraps a store failure, keeping ErrStoreClosed and ctx errors matchable.
func (g *guard[V]) storeErr(doing string, err error) error {
	if errors.Is(err, ErrStoreClosed) {
		return ErrStoreClosed
	}
	return fmt.Errorf("dedupe: %s key %q: %w", doing, g.key, err)
}

// newToken returns a random owner token for a claim.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
