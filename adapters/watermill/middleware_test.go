package idemqwatermill_test

import (
	"errors"
	"fmt"
	"github.com/idemq/idemq/consumer"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	wmessage "github.com/ThreeDotsLabs/watermill/message"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/dedupe"
)

// countingHandler returns one output with a fixed UUID and one without a
// UUID, and counts its runs.
func countingHandler(runs *atomic.Int32) wmessage.HandlerFunc {
	return func(msg *wmessage.Message) ([]*wmessage.Message, error) {
		runs.Add(1)
		k := msg.Metadata.Get(keyField)
		return []*wmessage.Message{output("out-"+k, k, "done "+k), output("", k, "no uuid")}, nil
	}
}

func TestMiddleware(t *testing.T) {
	t.Parallel()

	t.Run("FirstDeliveryCommitsOutputsDuplicateReemitsThem", func(t *testing.T) {
		t.Parallel()
		var runs atomic.Int32
		var hooked []string
		d := newDedup(t, memoryStore(t), idemqwatermill.Config{
			OnDuplicate: func(msg *wmessage.Message, stored []*wmessage.Message) error {
				hooked = append(hooked, fmt.Sprintf("%s %s %d", msg.UUID, msg.Metadata.Get(keyField), len(stored)))
				return nil
			},
		})
		h := d.Middleware(countingHandler(&runs))

		first, err := h(newMsg("k1", "a"))
		if err != nil || len(first) != 2 {
			t.Fatalf("first delivery = %d outputs, %v; want 2, nil", len(first), err)
		}
		if first[1].UUID == "" {
			t.Errorf("an output without UUID was returned without one; want a UUID assigned before the commit")
		}
		dup := newMsg("k1", "a")
		again, err := h(dup)
		if err != nil || !sameMessages(again, first) {
			t.Errorf("duplicate = %v, %v; want the first delivery's outputs, nil", again, err)
		}
		if again[0] == first[0] {
			t.Errorf("duplicate returned the original *Message; want fresh messages")
		}
		if got := runs.Load(); got != 1 {
			t.Errorf("handler runs = %d, want 1", got)
		}
		if got := dup.Metadata.Get(idemqwatermill.DuplicateMetadataKey); got != "true" {
			t.Errorf("duplicate's %s = %q, want \"true\"", idemqwatermill.DuplicateMetadataKey, got)
		}
		if want := []string{dup.UUID + " k1 2"}; len(hooked) != 1 || hooked[0] != want[0] {
			t.Errorf("OnDuplicate calls = %q, want %q", hooked, want)
		}
	})

	t.Run("DropDuplicateOutputs", func(t *testing.T) {
		t.Parallel()
		var runs atomic.Int32
		d := newDedup(t, memoryStore(t), idemqwatermill.Config{DropDuplicateOutputs: true})
		h := d.Middleware(countingHandler(&runs))
		if out, err := h(newMsg("k1", "a")); err != nil || len(out) != 2 {
			t.Fatalf("first delivery = %d outputs, %v; want 2, nil", len(out), err)
		}
		if out, err := h(newMsg("k1", "a")); err != nil || out != nil {
			t.Errorf("duplicate = %v, %v; want nil, nil", out, err)
		}
	})

	t.Run("HandlerErrorCommitsNothing", func(t *testing.T) {
		t.Parallel()
		var runs atomic.Int32
		d := newDedup(t, memoryStore(t), idemqwatermill.Config{})
		h := d.Middleware(func(msg *wmessage.Message) ([]*wmessage.Message, error) {
			if runs.Add(1) == 1 {
				return []*wmessage.Message{output("x", "k", "partial")}, errBoom
			}
			return nil, nil
		})
		if out, err := h(newMsg("k1", "a")); err != errBoom || out != nil {
			t.Errorf("failing delivery = %v, %v; want nil, the handler's own error", out, err)
		}
		if _, err := h(newMsg("k1", "a")); err != nil {
			t.Errorf("redelivery error = %v, want nil", err)
		}
		if got := runs.Load(); got != 2 {
			t.Errorf("handler runs = %d, want 2 (the redelivery runs again)", got)
		}
	})

	t.Run("HandlerPanicCommitsNothing", func(t *testing.T) {
		t.Parallel()
		var runs atomic.Int32
		d := newDedup(t, memoryStore(t), idemqwatermill.Config{})
		h := d.Middleware(func(msg *wmessage.Message) ([]*wmessage.Message, error) {
			if runs.Add(1) == 1 {
				panic("handler bug")
			}
			return nil, nil
		})
		func() {
			defer func() {
				if p := recover(); p != "handler bug" {
					t.Errorf("recovered %v, want the handler's panic", p)
				}
			}()
			_, _ = h(newMsg("k1", "a"))
		}()
		if _, err := h(newMsg("k1", "a")); err != nil || runs.Load() != 2 {
			t.Errorf("redelivery = %v with %d runs; want nil with 2", err, runs.Load())
		}
	})

	t.Run("HandlerSeesGuardContextThenOriginalIsRestored", func(t *testing.T) {
		t.Parallel()
		d := newDedup(t, memoryStore(t), idemqwatermill.Config{})
		msg := newMsg("k1", "a")
		orig := msg.Context()
		var inner any
		_, err := d.Middleware(func(msg *wmessage.Message) ([]*wmessage.Message, error) {
			inner = msg.Context()
			return nil, nil
		})(msg)
		if err != nil || inner == orig || msg.Context() != orig {
			t.Errorf("err = %v, handler ctx is original = %v, restored = %v; want nil, false, true",
				err, inner == orig, msg.Context() == orig)
		}
	})

	t.Run("ScopesSeparateKeys", func(t *testing.T) {
		t.Parallel()
		var runs atomic.Int32
		store := memoryStore(t)
		a := newDedup(t, store, idemqwatermill.Config{Scope: "a"}).Middleware(countingHandler(&runs))
		b := newDedup(t, store, idemqwatermill.Config{Scope: "b"}).Middleware(countingHandler(&runs))
		for _, h := range []wmessage.HandlerFunc{a, b, a, b} {
			if _, err := h(newMsg("k1", "x")); err != nil {
				t.Fatal(err)
			}
		}
		if got := runs.Load(); got != 2 {
			t.Errorf("handler runs = %d, want 2 (once per scope)", got)
		}
	})

	t.Run("NoPublishHandlerCommitsNoOutputs", func(t *testing.T) {
		t.Parallel()
		var runs atomic.Int32
		d := newDedup(t, memoryStore(t), idemqwatermill.Config{})
		h := d.NoPublishHandler(func(msg *wmessage.Message) error { runs.Add(1); return nil })
		for range 3 {
			if err := h(newMsg("k1", "a")); err != nil {
				t.Fatal(err)
			}
		}
		// The same key and scope through Middleware: a duplicate with no outputs.
		out, err := d.Middleware(countingHandler(&runs))(newMsg("k1", "a"))
		if err != nil || len(out) != 0 || runs.Load() != 1 {
			t.Errorf("after NoPublishHandler: %d outputs, %v, %d runs; want 0, nil, 1", len(out), err, runs.Load())
		}
	})

	t.Run("ConcurrentDeliveriesRunOnce", func(t *testing.T) {
		t.Parallel()
		var runs atomic.Int32
		h := newDedup(t, memoryStore(t), idemqwatermill.Config{}).Middleware(countingHandler(&runs))
		const n = 16
		outs := make([][]*wmessage.Message, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				var err error
				if outs[i], err = h(newMsg("k1", "a")); err != nil {
					t.Errorf("delivery %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		for i := 1; i < n; i++ {
			if !sameMessages(outs[i], outs[0]) {
				t.Errorf("delivery %d outputs differ from delivery 0's", i)
			}
		}
		if got := runs.Load(); got != 1 {
			t.Errorf("handler runs = %d, want 1", got)
		}
	})
}

func TestMiddlewareMissingKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		policy   consumer.KeyPolicy
		wantRuns int32
		wantErr  bool
	}{
		{consumer.KeyReject, 0, true},
		{consumer.KeyProcess, 2, false},
		{consumer.KeySkip, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.policy.String(), func(t *testing.T) {
			t.Parallel()
			var runs atomic.Int32
			h := newDedup(t, memoryStore(t), idemqwatermill.Config{InvalidKey: tt.policy}).Middleware(countingHandler(&runs))
			for range 2 {
				_, err := h(newMsg("", "no key"))
				var keyErr *idemqwatermill.KeyError
				if tt.wantErr != errors.As(err, &keyErr) || tt.wantErr != errors.Is(err, idemqwatermill.ErrNoKey) {
					t.Errorf("error = %v, want a *KeyError wrapping ErrNoKey: %v", err, tt.wantErr)
				}
			}
			if got := runs.Load(); got != tt.wantRuns {
				t.Errorf("handler runs = %d, want %d", got, tt.wantRuns)
			}
		})
	}

	t.Run("KeyFuncErrorFollowsThePolicy", func(t *testing.T) {
		t.Parallel()
		var runs atomic.Int32
		failing := func(*wmessage.Message) (string, error) { return "", errBoom }
		rejecting := newDedup(t, memoryStore(t), idemqwatermill.Config{KeyFunc: failing})
		_, err := rejecting.Middleware(countingHandler(&runs))(newMsg("k", "a"))
		var keyErr *idemqwatermill.KeyError
		if !errors.As(err, &keyErr) || !errors.Is(err, errBoom) || !idemqwatermill.Poisonable(err) || runs.Load() != 0 {
			t.Errorf("KeyReject: error = %v (poisonable %v), runs %d; want a poisonable KeyError wrapping errBoom, 0 runs",
				err, idemqwatermill.Poisonable(err), runs.Load())
		}
		skipping := newDedup(t, memoryStore(t), idemqwatermill.Config{KeyFunc: failing, InvalidKey: consumer.KeySkip})
		if out, err := skipping.Middleware(countingHandler(&runs))(newMsg("k", "a")); err != nil || out != nil || runs.Load() != 0 {
			t.Errorf("KeySkip: = %v, %v, runs %d; want acked without running", out, err, runs.Load())
		}
		if got := skipping.Stats().InvalidKeys; got != 1 {
			t.Errorf("Stats().InvalidKeys = %d, want 1", got)
		}
	})

	t.Run("KeyTooLongWithItsScopeFollowsThePolicy", func(t *testing.T) {
		t.Parallel()
		var runs atomic.Int32
		long := strings.Repeat("k", dedupe.MaxKeyLen)
		d := newDedup(t, memoryStore(t), idemqwatermill.Config{InvalidKey: consumer.KeyProcess})
		if _, err := d.Middleware(countingHandler(&runs))(newMsg(long, "a")); err != nil || runs.Load() != 1 {
			t.Errorf("= %v, runs %d; want run unguarded (KeyProcess)", err, runs.Load())
		}
		_, err := newDedup(t, memoryStore(t), idemqwatermill.Config{}).Middleware(countingHandler(&runs))(newMsg(long, "a"))
		if !errors.Is(err, dedupe.ErrInvalidKey) || !idemqwatermill.Poisonable(err) {
			t.Errorf("KeyReject: error = %v, want a poisonable KeyError wrapping dedupe.ErrInvalidKey", err)
		}
	})

	t.Run("EmptyKeyIsMissing", func(t *testing.T) {
		t.Parallel()
		var runs atomic.Int32
		d := newDedup(t, memoryStore(t), idemqwatermill.Config{
			KeyFunc: func(*wmessage.Message) (string, error) { return "", nil },
		})
		if _, err := d.Middleware(countingHandler(&runs))(newMsg("k", "a")); !errors.Is(err, idemqwatermill.ErrNoKey) {
			t.Errorf("error = %v, want ErrNoKey", err)
		}
	})
}

// TestOutputsTooLarge: outputs over MaxOutputBytes fail the message with a
// poisonable ErrOutputsTooLarge and commit nothing (the claim is released),
// so the next delivery runs the handler again instead of wedging on a
// commit the store cannot take.
func TestOutputsTooLarge(t *testing.T) {
	t.Parallel()
	var runs atomic.Int32
	d := newDedup(t, memoryStore(t), idemqwatermill.Config{MaxOutputBytes: 1 << 10})
	h := d.Middleware(func(msg *wmessage.Message) ([]*wmessage.Message, error) {
		runs.Add(1)
		return []*wmessage.Message{output("big", "k", strings.Repeat("x", 4<<10))}, nil
	})
	for range 2 {
		_, err := h(newMsg("k", "a"))
		var guard *idemqwatermill.GuardError
		if !errors.Is(err, idemqwatermill.ErrOutputsTooLarge) || errors.As(err, &guard) || !idemqwatermill.Poisonable(err) {
			t.Fatalf("error = %v, want a poisonable ErrOutputsTooLarge, not a *GuardError", err)
		}
	}
	if runs.Load() != 2 {
		t.Errorf("handler runs = %d, want 2: nothing was committed", runs.Load())
	}
}

// TestOnDuplicateErrorFailsTheDuplicate: an error from OnDuplicate is the
// duplicate's error (a nack), and the stored outputs are what it gets.
func TestOnDuplicateErrorFailsTheDuplicate(t *testing.T) {
	t.Parallel()
	var runs atomic.Int32
	var got []*wmessage.Message
	d := newDedup(t, memoryStore(t), idemqwatermill.Config{
		OnDuplicate: func(msg *wmessage.Message, stored []*wmessage.Message) error {
			got = stored
			return errBoom
		},
	})
	h := d.Middleware(countingHandler(&runs))
	first, err := h(newMsg("k", "a"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := h(newMsg("k", "a")); !errors.Is(err, errBoom) || out != nil {
		t.Errorf("duplicate = %v, %v; want OnDuplicate's error and no outputs", out, err)
	}
	if !sameMessages(got, first) {
		t.Errorf("OnDuplicate got %v, want the stored outputs %v", got, first)
	}
	if s := d.Stats(); s.Processed != 1 || s.Duplicates != 1 || s.InFlight != 0 {
		t.Errorf("Stats = %+v, want Processed 1, Duplicates 1, InFlight 0", s)
	}
}

// TestFingerprintCatchesReusedKey: with FingerprintFunc, a message that
// reuses a processed key with another payload is not a duplicate: it fails
// with a poisonable *dedupe.KeyReusedError (a nack), and the handler does
// not run; the same payload again is a duplicate.
func TestFingerprintCatchesReusedKey(t *testing.T) {
	t.Parallel()
	var runs atomic.Int32
	d := newDedup(t, memoryStore(t), idemqwatermill.Config{FingerprintFunc: idemqwatermill.PayloadFingerprint})
	h := d.Middleware(countingHandler(&runs))
	if _, err := h(newMsg("order-7", "10 EUR")); err != nil {
		t.Fatal(err)
	}
	if out, err := h(newMsg("order-7", "10 EUR")); err != nil || len(out) != 2 {
		t.Fatalf("same payload = %v, %v; want the duplicate's stored outputs", out, err)
	}
	_, err := h(newMsg("order-7", "99 EUR"))
	var reused *dedupe.KeyReusedError
	var guard *idemqwatermill.GuardError
	if !errors.As(err, &reused) || errors.As(err, &guard) || !idemqwatermill.Poisonable(err) {
		t.Fatalf("other payload = %v, want a poisonable *dedupe.KeyReusedError, not a *GuardError", err)
	}
	if runs.Load() != 1 {
		t.Errorf("handler runs = %d, want 1", runs.Load())
	}
	if s := d.Stats(); s.InvalidKeys != 1 || s.Duplicates != 1 {
		t.Errorf("Stats = %+v, want InvalidKeys 1, Duplicates 1", s)
	}
}
