package idemqwatermill_test

import (
	"context"
	"errors"
	"github.com/idemq/idemq/consumer"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	wmessage "github.com/ThreeDotsLabs/watermill/message"
	"github.com/redis/go-redis/v9"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testwait"
)

// TestGuardFailures checks that every failure of the guard (not of the
// handler) is a *GuardError that is not Poisonable and returns no outputs,
// so the router nacks and never acks.
func TestGuardFailures(t *testing.T) {
	t.Parallel()
	closed := dedupe.NewMemoryStore()
	_ = closed.Close()
	tests := []struct {
		name     string
		store    func(t *testing.T) dedupe.Store
		cfg      idemqwatermill.Config
		wantRuns int32
		want     error
	}{
		{"StoreClosed", func(*testing.T) dedupe.Store { return closed }, idemqwatermill.Config{}, 0, dedupe.ErrStoreClosed},
		{"ClaimFails", func(t *testing.T) dedupe.Store {
			return &faultStore{Store: memoryStore(t), claimErr: errors.New("connection refused")}
		}, idemqwatermill.Config{}, 0, nil},
		{"CommitOutcomeUnknown", func(t *testing.T) dedupe.Store {
			return &faultStore{Store: memoryStore(t), commitErr: errors.New("i/o timeout")}
		}, idemqwatermill.Config{}, 1, dedupe.ErrCommitUnknown},
		{"RedisNeverConfirmsSubscription", func(t *testing.T) dedupe.Store {
			// Another owner holds the key, so the delivery must subscribe to
			// wait for it, and Redis never confirms.
			return &faultStore{Store: memoryStore(t), busy: true, blockWatch: true}
		}, idemqwatermill.Config{StartTimeout: 50 * time.Millisecond}, 0, idemqwatermill.ErrStartTimeout},
		{"OptimisticRedisNeverConfirmsSubscription", func(t *testing.T) dedupe.Store {
			// Optimistic mode subscribes on every delivery, and Redis never confirms.
			return &faultStore{Store: memoryStore(t), blockWatch: true}
		}, idemqwatermill.Config{StartTimeout: 50 * time.Millisecond, Guard: consumer.Guard{Optimistic: true}}, 0, idemqwatermill.ErrStartTimeout},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var runs atomic.Int32
			d := newDedup(t, tt.store(t), tt.cfg)
			out, err := d.Middleware(countingHandler(&runs))(newMsg("k1", "a"))
			assertGuardError(t, out, err, tt.want)
			if got := runs.Load(); got != tt.wantRuns {
				t.Errorf("handler runs = %d, want %d", got, tt.wantRuns)
			}
		})
	}

	t.Run("RedisDown", func(t *testing.T) {
		t.Parallel()
		client := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
		t.Cleanup(func() { _ = client.Close() })
		store, err := redisstore.New(client)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = store.Close() })
		var runs atomic.Int32
		d := newDedup(t, store, idemqwatermill.Config{StartTimeout: 10 * time.Second})
		out, err := d.Middleware(countingHandler(&runs))(newMsg("k1", "a"))
		assertGuardError(t, out, err, nil)
		var storeErr *dedupe.StoreError
		if !errors.As(err, &storeErr) {
			t.Errorf("error = %v, want a *dedupe.StoreError at once (the claim failed)", err)
		}
		if runs.Load() != 0 {
			t.Errorf("handler ran with Redis down")
		}
	})

	t.Run("CorruptStoredValue", func(t *testing.T) {
		t.Parallel()
		var runs atomic.Int32
		d := newDedup(t, &faultStore{Store: memoryStore(t), corrupt: true}, idemqwatermill.Config{})
		out, err := d.Middleware(countingHandler(&runs))(newMsg("k1", "a"))
		var decode *dedupe.DecodeError
		if out != nil || !errors.As(err, &decode) || !idemqwatermill.Poisonable(err) || runs.Load() != 0 {
			t.Errorf("= %v, %v; want nil, a poisonable error wrapping *dedupe.DecodeError, no run", out, err)
		}
	})

	t.Run("KeyTooLong", func(t *testing.T) {
		t.Parallel()
		var runs atomic.Int32
		d := newDedup(t, memoryStore(t), idemqwatermill.Config{})
		_, err := d.Middleware(countingHandler(&runs))(newMsg(strings.Repeat("k", dedupe.MaxKeyLen), "a"))
		var keyErr *idemqwatermill.KeyError
		if !errors.As(err, &keyErr) || !errors.Is(err, dedupe.ErrInvalidKey) || runs.Load() != 0 {
			t.Errorf("error = %v, want a *KeyError wrapping dedupe.ErrInvalidKey and no run", err)
		}
	})
}

func assertGuardError(t *testing.T, out []*wmessage.Message, err, want error) {
	t.Helper()
	var guard *idemqwatermill.GuardError
	if out != nil || !errors.As(err, &guard) || guard.Key != "k1" || idemqwatermill.Poisonable(err) {
		t.Errorf("= %v, %v; want nil, a non-poisonable *GuardError for key k1", out, err)
	}
	if want != nil && !errors.Is(err, want) {
		t.Errorf("error = %v, want it to wrap %v", err, want)
	}
}

// TestLeaseLost covers a handler that finished after its lease was lost and
// another owner took the key: the taker committed (a duplicate: the taker's
// outputs, acked); the taker released (the owner's outputs are committed,
// the handler is not run again); or the message's context ended while the
// owner waited for the taker (a GuardError: nack).
func TestLeaseLost(t *testing.T) {
	t.Parallel()

	t.Run("TakerCommittedIsDuplicate", func(t *testing.T) {
		t.Parallel()
		fs := &faultStore{Store: memoryStore(t)}
		d := newDedup(t, fs, idemqwatermill.Config{})
		var takerOut []*wmessage.Message
		out, err := d.Middleware(func(msg *wmessage.Message) ([]*wmessage.Message, error) {
			fs.releaseOwner(t) // the lease ran out while the handler worked...
			var err error      // ...and another owner took the key and committed.
			takerOut, err = d.Middleware(func(*wmessage.Message) ([]*wmessage.Message, error) {
				return []*wmessage.Message{output("taker-out", "k1", "by the taker")}, nil
			})(newMsg("k1", "a"))
			if err != nil {
				t.Errorf("taker: %v", err)
			}
			return []*wmessage.Message{output("owner-out", "k1", "by the owner")}, nil
		})(newMsg("k1", "a"))
		if err != nil || !sameMessages(out, takerOut) || len(out) != 1 {
			t.Errorf("fenced owner = %v, %v; want the taker's outputs %v, nil", out, err, takerOut)
		}
	})

	t.Run("TakerReleasesThenOwnerCommits", func(t *testing.T) {
		t.Parallel()
		mem := memoryStore(t)
		fs := &faultStore{Store: mem}
		d := newDedup(t, fs, idemqwatermill.Config{})
		var calls atomic.Int32
		var key string
		released := make(chan error, 1)
		out, err := d.Middleware(func(msg *wmessage.Message) ([]*wmessage.Message, error) {
			calls.Add(1)
			key = fs.releaseOwner(t)
			if _, ok, err := fs.Store.Claim(context.Background(), key, "thief", time.Minute); !ok || err != nil {
				t.Errorf("thief's claim: %v, %v", ok, err)
			}
			go func() { // once the finished owner waits for the thief, the thief gives up
				// The store has no signal for a new waiter: poll it, bounded.
				for deadline := time.Now().Add(10 * time.Second); mem.ActiveInterests() == 0; time.Sleep(time.Millisecond) {
					if time.Now().After(deadline) {
						released <- errors.New("the finished owner never waited for the thief")
						return
					}
				}
				_, err := mem.Release(context.Background(), key, "thief")
				released <- err
			}()
			return []*wmessage.Message{output("owner-out", "k1", "by the owner")}, nil
		})(newMsg("k1", "a"))
		if err != nil || len(out) != 1 || out[0].UUID != "owner-out" {
			t.Errorf("finished owner = %v, %v; want its own outputs committed, nil", out, err)
		}
		if err := <-released; err != nil {
			t.Errorf("thief's release: %v", err)
		}
		if n := calls.Load(); n != 1 {
			t.Errorf("the handler ran %d times, want 1", n)
		}
		if rec, err := mem.Get(context.Background(), key); err != nil || rec.State != dedupe.Committed {
			t.Errorf("the key = %+v, %v; want the owner's outputs committed", rec, err)
		}
	})

	t.Run("ContextEndsWhileWaitingIsGuardError", func(t *testing.T) {
		t.Parallel()
		fs := &faultStore{Store: memoryStore(t)}
		d := newDedup(t, fs, idemqwatermill.Config{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		m := newMsg("k1", "a")
		m.SetContext(ctx)
		out, err := d.Middleware(func(msg *wmessage.Message) ([]*wmessage.Message, error) {
			key := fs.releaseOwner(t)
			if _, ok, err := fs.Store.Claim(context.Background(), key, "thief", time.Minute); !ok || err != nil {
				t.Errorf("thief's claim: %v, %v", ok, err)
			}
			cancel() // the message's context ends: the owner cannot wait for the thief
			return []*wmessage.Message{output("owner-out", "k1", "by the owner")}, nil
		})(m)
		assertGuardError(t, out, err, dedupe.ErrLeaseLost)
	})
}

// TestWaiting covers a duplicate that finds the key claimed by a running
// owner: by default it waits and gets the owner's outputs; with NoWait it
// fails at once with ErrInProgress (a nack).
func TestWaiting(t *testing.T) {
	t.Parallel()
	for _, noWait := range []bool{false, true} {
		name := map[bool]string{false: "WaitsForOwner", true: "NoWaitFailsInProgress"}[noWait]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			fs := &faultStore{Store: memoryStore(t), waiting: make(chan struct{})}
			d := newDedup(t, fs, idemqwatermill.Config{NoWait: noWait})
			started, finish := make(chan struct{}), make(chan struct{})
			type res struct {
				out []*wmessage.Message
				err error
			}
			owner := make(chan res, 1)
			go func() {
				out, err := d.Middleware(func(*wmessage.Message) ([]*wmessage.Message, error) {
					close(started)
					<-finish
					return []*wmessage.Message{output("owner-out", "k1", "x")}, nil
				})(newMsg("k1", "a"))
				owner <- res{out, err}
			}()
			<-started
			dup := make(chan res, 1)
			go func() {
				out, err := d.Middleware(func(*wmessage.Message) ([]*wmessage.Message, error) {
					t.Error("the duplicate's handler ran while the owner held the key")
					return nil, nil
				})(newMsg("k1", "a"))
				dup <- res{out, err}
			}()
			<-fs.waiting // the duplicate found the live claim
			if noWait {
				r := <-dup
				assertGuardError(t, r.out, r.err, dedupe.ErrInProgress)
			}
			close(finish)
			o := <-owner
			if o.err != nil || len(o.out) != 1 {
				t.Fatalf("owner = %v, %v", o.out, o.err)
			}
			if !noWait {
				if r := <-dup; r.err != nil || !sameMessages(r.out, o.out) {
					t.Errorf("waiting duplicate = %v, %v; want the owner's outputs, nil", r.out, r.err)
				}
			}
		})
	}
}

// TestOptimistic: without a claim both deliveries start; the first commit
// wins, the other's handler sees its message context cancelled, and it
// returns the winner's outputs with a nil error.
func TestOptimistic(t *testing.T) {
	t.Parallel()
	d := newDedup(t, memoryStore(t), idemqwatermill.Config{Guard: consumer.Guard{Optimistic: true}})
	started := make(chan struct{})
	slow := make(chan []*wmessage.Message, 1)
	var cause error
	go func() {
		out, err := d.Middleware(func(msg *wmessage.Message) ([]*wmessage.Message, error) {
			close(started)
			<-msg.Context().Done() // cancelled when the other delivery commits
			cause = context.Cause(msg.Context())
			return nil, msg.Context().Err()
		})(newMsg("k1", "a"))
		if err != nil {
			t.Errorf("losing delivery error = %v, want nil", err)
		}
		slow <- out
	}()
	<-started
	fast, err := d.Middleware(func(*wmessage.Message) ([]*wmessage.Message, error) {
		return []*wmessage.Message{output("fast-out", "k1", "x")}, nil
	})(newMsg("k1", "a"))
	if err != nil {
		t.Fatal(err)
	}
	if got := <-slow; !sameMessages(got, fast) {
		t.Errorf("losing delivery outputs = %v, want the winner's %v", got, fast)
	}
	if !errors.Is(cause, dedupe.ErrConflict) {
		t.Errorf("loser's context cause = %v, want a dedupe conflict", cause)
	}
}

// TestStartTimeout: a delivery that finds another delivery's handler
// running waits for it at most StartTimeout, then fails with a *GuardError
// wrapping ErrStartTimeout (a nack) without running its handler; a handler
// that started within StartTimeout runs to its end, past it.
func TestStartTimeout(t *testing.T) {
	t.Parallel()
	const bound = 100 * time.Millisecond

	t.Run("WaiterGivesUp", func(t *testing.T) {
		t.Parallel()
		d := newDedup(t, memoryStore(t), idemqwatermill.Config{StartTimeout: bound})
		var runs atomic.Int32
		holding, finish := make(chan struct{}), make(chan struct{})
		owner := make(chan error, 1)
		go func() {
			_, err := d.Middleware(func(*wmessage.Message) ([]*wmessage.Message, error) {
				close(holding)
				<-finish
				return nil, nil
			})(newMsg("k1", "a"))
			owner <- err
		}()
		testwait.Recv(t, holding, "the first delivery's handler")
		start := time.Now()
		out, err := d.Middleware(countingHandler(&runs))(newMsg("k1", "a"))
		waited := time.Since(start)
		assertGuardError(t, out, err, idemqwatermill.ErrStartTimeout)
		if !errors.Is(err, dedupe.ErrInProgress) {
			t.Errorf("error = %v, want it to wrap dedupe.ErrInProgress", err)
		}
		if waited < bound {
			t.Errorf("gave up after %v, before StartTimeout (%v)", waited, bound)
		}
		if runs.Load() != 0 {
			t.Error("the waiting delivery's handler ran")
		}
		close(finish)
		if err := testwait.Recv(t, owner, "the first delivery"); err != nil {
			t.Errorf("first delivery = %v, want nil", err)
		}
	})

	t.Run("StartedHandlerOutlivesIt", func(t *testing.T) {
		t.Parallel()
		d := newDedup(t, memoryStore(t), idemqwatermill.Config{StartTimeout: bound})
		out, err := d.Middleware(func(msg *wmessage.Message) ([]*wmessage.Message, error) {
			select {
			case <-time.After(2 * bound): // the work outlasts the bound
			case <-msg.Context().Done():
				return nil, context.Cause(msg.Context())
			}
			return []*wmessage.Message{output("out", "k1", "done")}, nil
		})(newMsg("k1", "a"))
		if err != nil || len(out) != 1 {
			t.Errorf("handler that ran past StartTimeout = %v, %v; want its output, nil", out, err)
		}
	})
}
