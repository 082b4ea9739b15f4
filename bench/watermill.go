package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	wm "github.com/ThreeDotsLabs/watermill"
	wmessage "github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/dedupe/redisstore"
)

// wmInFlight is how many messages are in flight at once: 64 goroutines
// publish, each waiting until its message was handled before the next (as
// adapters/watermill/bench_test.go does; GoChannel's
// BlockPublishUntilSubscriberAck would serialise them).
const wmInFlight = 64

// middlewareKind is the middleware of a Watermill row.
type middlewareKind int

const (
	noMiddleware middlewareKind = iota
	watermillDeduplicator
	idemqMiddleware
)

// watermillRun pushes messages with new keys through a router on
// GoChannel with the row's middleware. Timed from the first publish to the
// last message handled.
func watermillRun(kind middlewareKind, messages int) runFunc {
	return func(ctx context.Context, _ *services, rr rowRound) (timed, error) {
		mw, closeMW, err := newMiddleware(kind, rr)
		if err != nil {
			return timed{}, err
		}
		defer closeMW()
		elapsed, err := routeMessages(ctx, mw, messages, rr)
		return timed{elapsed: elapsed, items: messages}, err
	}
}

// newMiddleware returns the row's middleware (nil for none) and what closes it.
func newMiddleware(kind middlewareKind, rr rowRound) (wmessage.HandlerMiddleware, func(), error) {
	switch kind {
	case watermillDeduplicator:
		d := &middleware.Deduplicator{
			KeyFactory: middleware.NewMessageHasherFromMetadataField(idemqwatermill.DefaultKeyMetadata),
			Repository: &memoryRepository{window: time.Minute, seen: map[string]time.Time{}},
			Timeout:    time.Minute,
		}
		return d.Middleware, func() {}, nil
	case idemqMiddleware:
		store, err := redisstore.New(rr.server.client, redisstore.WithPrefix(rr.prefix))
		if err != nil {
			return nil, nil, err
		}
		d, err := idemqwatermill.New(store, idemqwatermill.Config{})
		if err != nil {
			_ = store.Close()
			return nil, nil, err
		}
		return d.Middleware, func() { _ = store.Close() }, nil
	}
	return nil, func() {}, nil
}

// routeMessages runs a router with mw and pushes the messages through it.
func routeMessages(ctx context.Context, mw wmessage.HandlerMiddleware, messages int, rr rowRound) (time.Duration, error) {
	ps := gochannel.NewGoChannel(gochannel.Config{}, wm.NopLogger{})
	defer ps.Close()
	r, err := wmessage.NewRouter(wmessage.RouterConfig{CloseTimeout: 10 * time.Second}, wm.NopLogger{})
	if err != nil {
		return 0, err
	}
	if mw != nil {
		r.AddMiddleware(mw)
	}
	msgs, handled := wmMessages(messages, rr)
	seen := make([]atomic.Bool, messages)
	var count atomic.Int64
	r.AddConsumerHandler("h", "in", ps, func(m *wmessage.Message) error {
		i, _ := strconv.Atoi(m.Metadata.Get("i"))
		count.Add(1) // a handler run twice fails the round below
		if seen[i].CompareAndSwap(false, true) {
			close(handled[i])
		}
		return nil
	})
	done := make(chan error, 1)
	go func() { done <- r.Run(context.WithoutCancel(ctx)) }()
	defer func() { _ = r.Close(); <-done }()
	select {
	case <-r.Running():
	case <-ctx.Done():
		return 0, context.Cause(ctx)
	}
	start := time.Now()
	if err := publishAll(ctx, ps, msgs, handled); err != nil {
		return 0, err
	}
	elapsed := time.Since(start)
	if n := count.Load(); n != int64(messages) {
		return 0, fmt.Errorf("handled %d messages, want %d", n, messages)
	}
	return elapsed, nil
}

// wmMessages returns the messages, each a new key and its index in the
// metadata, and a channel per message closed when it was handled.
func wmMessages(n int, rr rowRound) ([]*wmessage.Message, []chan struct{}) {
	msgs := make([]*wmessage.Message, n)
	handled := make([]chan struct{}, n)
	for i := range msgs {
		msgs[i] = wmessage.NewMessage(wm.NewUUID(), []byte("payload"))
		msgs[i].Metadata.Set(idemqwatermill.DefaultKeyMetadata, rr.row+"-"+strconv.Itoa(rr.round)+"-"+strconv.Itoa(i))
		msgs[i].Metadata.Set("i", strconv.Itoa(i))
		handled[i] = make(chan struct{})
	}
	return msgs, handled
}

// publishAll publishes from wmInFlight goroutines, each waiting for its
// message to be handled before publishing the next.
func publishAll(ctx context.Context, ps *gochannel.GoChannel, msgs []*wmessage.Message, handled []chan struct{}) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, wmInFlight)
	for range wmInFlight {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(msgs)); i = next.Add(1) - 1 {
				if err := ps.Publish("in", msgs[i]); err != nil {
					errs <- err
					return
				}
				select {
				case <-handled[i]:
				case <-ctx.Done():
					errs <- context.Cause(ctx)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// memoryRepository is middleware.ExpiringKeyRepository in memory with a
// fixed window, like Watermill's NewMapExpiringKeyRepository(time.Minute)
// without its sweeper goroutine (which never stops), expiring keys lazily.
type memoryRepository struct {
	mu     sync.Mutex
	window time.Duration
	seen   map[string]time.Time
}

func (r *memoryRepository) IsDuplicate(_ context.Context, key string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := time.Now()
	if exp, ok := r.seen[key]; ok && now.Before(exp) {
		return true, nil
	}
	r.seen[key] = now.Add(r.window)
	return false, nil
}
