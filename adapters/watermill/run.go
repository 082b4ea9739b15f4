package idemqwatermill

import (
	"context"
	"errors"
	"fmt"

	wmessage "github.com/ThreeDotsLabs/watermill/message"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/startgate"
)

// result is what the guard decided for one key.
type result struct {
	msgs      []*wmessage.Message // the work's outputs, or the stored ones for a duplicate
	duplicate bool
}

// work is the guarded step: a handler call or a publish. ctx is cancelled
// when the guard learns that it cannot win (lease lost, store closed).
type work func(ctx context.Context) ([]*wmessage.Message, error)

// workError marks an error that the work itself returned, so that run hands
// it back unchanged (Retry, PoisonQueue and the user's filters see their own
// error) while every error of the guard becomes a *GuardError.
type workError struct{ err error }

func (e *workError) Error() string { return e.err.Error() }

// run runs w at most once for the store key skey and commits its outputs.
// key is the user's key, for errors. A conflict (another run committed,
// including a taker after this run lost its lease) is a duplicate with the
// winner's outputs; a failed work returns its error; anything else is a
// *GuardError (or a *KeyError for a key the store refuses).
func (d *Deduplicator) run(ctx context.Context, msg *wmessage.Message, key, skey string, w work) (result, error) {
	if d.tx != nil {
		return d.runTx(ctx, msg, key, skey, w)
	}
	opts := d.opts // with dedupe.WithMaxWait(StartTimeout), unless NoWait
	if d.cfg.FingerprintFunc != nil {
		opts = append(opts[:len(opts):len(opts)], dedupe.WithFingerprint(d.cfg.FingerprintFunc(msg)))
	}
	out, err := dedupe.Run(ctx, d.store, skey, func(ctx context.Context, end dedupe.End[outcome]) ([]*wmessage.Message, error) {
		d.m.inFlight.Add(1)
		defer d.m.inFlight.Add(-1)
		msgs, err := w(ctx)
		if err != nil {
			return nil, &workError{err}
		}
		end(newOutcome(msgs))
		return msgs, nil
	}, opts...)

	var conflict *dedupe.ConflictError[outcome]
	switch {
	case err == nil:
		return result{msgs: out}, nil
	case errors.As(err, &conflict):
		return result{msgs: conflict.Value.messages(), duplicate: true}, nil
	}
	return result{}, d.guardErr(msg, key, err)
}

// runTx is run on a transactional store: w runs inside the store's
// transaction, and its outputs commit with its writes. A gate bounds the
// wait before w starts (the store's wait for the key's row) by
// StartTimeout.
func (d *Deduplicator) runTx(ctx context.Context, msg *wmessage.Message, key, skey string, w work) (result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	gate := startgate.New(d.cfg.StartTimeout, cancel, ErrStartTimeout)
	defer gate.Stop()
	var fp []byte
	if d.cfg.FingerprintFunc != nil {
		fp = d.cfg.FingerprintFunc(msg)
	}
	codec := outcomeCodec{max: d.cfg.MaxOutputBytes}
	var msgs []*wmessage.Message
	out, err := d.tx.RunTx(ctx, skey, fp, func(ctx context.Context) ([]byte, error) {
		if !gate.Start() {
			return nil, context.Cause(ctx)
		}
		d.m.inFlight.Add(1)
		defer d.m.inFlight.Add(-1)
		var err error
		if msgs, err = w(ctx); err != nil {
			return nil, &workError{err}
		}
		return codec.Encode(newOutcome(msgs))
	})
	switch {
	case err != nil && gate.Expired():
		return result{}, &GuardError{Key: key, Err: fmt.Errorf("%w: %w", ErrStartTimeout, err)}
	case err != nil:
		return result{}, d.guardErr(msg, key, err)
	case !out.Duplicate:
		return result{msgs: msgs}, nil
	}
	var stored outcome
	if err := codec.Decode(out.Value, &stored); err != nil {
		return result{}, &GuardError{Key: key, Err: &dedupe.DecodeError{Key: skey, Err: err}}
	}
	return result{msgs: stored.messages(), duplicate: true}, nil
}

// guardErr sorts an error of the guard: the work's own error unchanged, a
// key the store refuses as a *KeyError, bad data as it is, anything else a
// *GuardError.
func (d *Deduplicator) guardErr(msg *wmessage.Message, key string, err error) error {
	var failed *workError
	switch {
	case errors.As(err, &failed):
		return failed.err
	case errors.Is(err, dedupe.ErrWaitTimeout):
		return &GuardError{Key: key, Err: fmt.Errorf("%w: %w", ErrStartTimeout, err)}
	case errors.Is(err, dedupe.ErrInvalidKey):
		return &KeyError{UUID: msg.UUID, Err: err}
	case errors.As(err, new(*dedupe.KeyReusedError)):
		return err // bad data, not the guard's failure: Poisonable
	case errors.Is(err, ErrOutputsTooLarge):
		return err
	}
	return &GuardError{Key: key, Err: err}
}
