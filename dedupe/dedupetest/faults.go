package dedupetest

import (
	"context"
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
