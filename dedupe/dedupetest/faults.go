package dedupetest

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// hangingStore is a store whose renewals or commits hang until the test ends,
// ignoring ctx, like a default go-redis client on a frozen connection: it
// returns only at its read timeout. The call still reaches the backend first.
type hangingStore struct {
	dedupe.Store
	renew, commit bool
	until         <-chan struct{} // closed at the end of the test
}

func (s *hangingStore) Renew(ctx context.Context, key, token string, lease time.Duration) (bool, error) {
	held, err := s.Store.Renew(ctx, key, token, lease)
	if s.renew {
		<-s.until
		return false, context.DeadlineExceeded
	}
	return held, err
}

func (s *hangingStore) Commit(ctx context.Context, key string, c dedupe.Commit) (dedupe.Record, bool, error) {
	if s.commit {
		<-s.until
		return dedupe.Record{}, false, context.DeadlineExceeded
	}
	return s.Store.Commit(ctx, key, c)
}

// retryingStore runs every claim and commit twice and returns the second
// reply, like a client that resends a command whose reply was lost.
type retryingStore struct{ dedupe.Store }

func (s *retryingStore) Claim(ctx context.Context, key, token string, lease time.Duration) (dedupe.Record, bool, error) {
	if _, _, err := s.Store.Claim(ctx, key, token, lease); err != nil {
		return dedupe.Record{}, false, err
	}
	return s.Store.Claim(ctx, key, token, lease)
}

func (s *retryingStore) Commit(ctx context.Context, key string, c dedupe.Commit) (dedupe.Record, bool, error) {
	if _, _, err := s.Store.Commit(ctx, key, c); err != nil {
		return dedupe.Record{}, false, err
	}
	return s.Store.Commit(ctx, key, c)
}

// quietStore hands out interests whose events only the test sends: the
// backend's notifications never reach the guard.
type quietStore struct {
	dedupe.Store
	events chan dedupe.Event
}

func (s *quietStore) Watch(ctx context.Context, key string) (dedupe.Interest, error) {
	return quietInterest{s.events}, nil
}

type quietInterest struct{ events chan dedupe.Event }

func (i quietInterest) Events() <-chan dedupe.Event { return i.events }
func (i quietInterest) Close()                      {}

// until returns a channel closed at the end of the test.
func until(t interface{ Cleanup(func()) }) <-chan struct{} {
	c := make(chan struct{})
	t.Cleanup(func() { close(c) })
	return c
}

// lateReplyStore answers its first claim late: the claim runs on the
// backend at once, its reply comes back after delay (a stalled link).
type lateReplyStore struct {
	dedupe.Store
	delay time.Duration
	once  sync.Once
}

func (s *lateReplyStore) late() { s.once.Do(func() { time.Sleep(s.delay) }) }

func (s *lateReplyStore) Claim(ctx context.Context, key, token string, lease time.Duration) (dedupe.Record, bool, error) {
	rec, ok, err := s.Store.Claim(ctx, key, token, lease)
	s.late()
	return rec, ok, err
}

func (s *lateReplyStore) Exec(ctx context.Context, ops []dedupe.Op) []dedupe.OpResult {
	results := execAll(ctx, s.Store, ops)
	if len(ops) > 0 && ops[0].Kind == dedupe.OpClaim {
		s.late()
	}
	return results
}

// slowRenewStore renews at once but delivers the reply after delay.
type slowRenewStore struct {
	dedupe.Store
	delay time.Duration
}

func (s *slowRenewStore) Renew(ctx context.Context, key, token string, lease time.Duration) (bool, error) {
	held, err := s.Store.Renew(ctx, key, token, lease)
	time.Sleep(s.delay)
	return held, err
}

// goneRenewals is a store whose renewals of one key say the claim is gone.
type goneRenewals struct {
	dedupe.Store
	key string
}

func (s *goneRenewals) Exec(ctx context.Context, ops []dedupe.Op) []dedupe.OpResult {
	results := execAll(ctx, s.Store, ops)
	for i, op := range ops {
		if op.Kind == dedupe.OpRenew && op.Key == s.key {
			results[i] = dedupe.OpResult{}
		}
	}
	return results
}

// beforeWatchStore runs hook before each Watch reaches the backend.
type beforeWatchStore struct {
	dedupe.Store
	hook func()
}

func (s *beforeWatchStore) Watch(ctx context.Context, key string) (dedupe.Interest, error) {
	s.hook()
	return s.Store.Watch(ctx, key)
}

// execAll runs ops on s: in one Exec when s is a BatchStore, else one by one.
func execAll(ctx context.Context, s dedupe.Store, ops []dedupe.Op) []dedupe.OpResult {
	if bs, ok := s.(dedupe.BatchStore); ok {
		return bs.Exec(ctx, ops)
	}
	results := make([]dedupe.OpResult, len(ops))
	for i, op := range ops {
		results[i] = execSingle(ctx, s, op)
	}
	return results
}

// panicCodec panics when it encodes, like a MarshalJSON with a bug.
type panicCodec struct{ dedupe.JSONCodec }

func (panicCodec) Encode(v any) ([]byte, error) { panic("codec bug") }

// flakyStore fails the first fails commits and releases it is asked for
// (whole calls and ops of Exec) without reaching the backend, as a
// connection reset mid-call would, then behaves.
type flakyStore struct {
	dedupe.Store
	mu    sync.Mutex
	fails int
}

var errFlaky = errors.New("dedupetest: connection reset by peer")

func (s *flakyStore) fail() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fails == 0 {
		return false
	}
	s.fails--
	return true
}

func (s *flakyStore) Commit(ctx context.Context, key string, c dedupe.Commit) (dedupe.Record, bool, error) {
	if s.fail() {
		return dedupe.Record{}, false, errFlaky
	}
	return s.Store.Commit(ctx, key, c)
}

func (s *flakyStore) Release(ctx context.Context, key, token string) (bool, error) {
	if s.fail() {
		return false, errFlaky
	}
	return s.Store.Release(ctx, key, token)
}

// asyncFlakyStore is flakyStore with ExecAsync (as redisstore.Store has),
// through which Run sends its commit: a failed commit is sent again from
// its reply.
type asyncFlakyStore struct{ *flakyStore }

func (s asyncFlakyStore) ExecAsync(ctx context.Context, op dedupe.Op, done func(dedupe.OpResult)) {
	go func() { done(s.Exec(ctx, []dedupe.Op{op})[0]) }()
}

func (s *flakyStore) Exec(ctx context.Context, ops []dedupe.Op) []dedupe.OpResult {
	results := make([]dedupe.OpResult, len(ops))
	var pass []dedupe.Op
	var idx []int
	for i, op := range ops {
		if (op.Kind == dedupe.OpCommit || op.Kind == dedupe.OpRelease) && s.fail() {
			results[i].Err = errFlaky
			continue
		}
		pass, idx = append(pass, op), append(idx, i)
	}
	for j, r := range execAll(ctx, s.Store, pass) {
		results[idx[j]] = r
	}
	return results
}

// stuckWatchStore never confirms a subscription: Watch returns only when
// ctx ends, with its error.
type stuckWatchStore struct{ dedupe.Store }

func (s *stuckWatchStore) Watch(ctx context.Context, key string) (dedupe.Interest, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// cancelDuringCall cancels its caller's ctx during each Claim or Get (as a
// caller that goes away while the call is in flight), and completes the
// call itself.
type cancelDuringCall struct {
	dedupe.Store
	cancel context.CancelFunc
}

func (s *cancelDuringCall) Claim(ctx context.Context, key, token string, lease time.Duration) (dedupe.Record, bool, error) {
	s.cancel()
	return s.Store.Claim(context.WithoutCancel(ctx), key, token, lease)
}

func (s *cancelDuringCall) Get(ctx context.Context, key string) (dedupe.Record, error) {
	s.cancel()
	return s.Store.Get(context.WithoutCancel(ctx), key)
}
