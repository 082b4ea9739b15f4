package idemqwatermill_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	wm "github.com/ThreeDotsLabs/watermill"
	wmessage "github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/internal/testenv"
)

// benchInFlight is how many messages are in flight at once: 64 goroutines
// publish, each waiting until its message was handled before the next.
// (GoChannel's BlockPublishUntilSubscriberAck would serialise every
// Publish of a topic behind one lock: one message at a time.)
const benchInFlight = 64

// BenchmarkMiddleware measures a router on GoChannel, every message a new
// key, 64 in flight: (a) no middleware, (b) Watermill's
// middleware.Deduplicator in memory, (c) this package's middleware on the
// real Redis, claim-first. It reports msgs/s and, for (b) and (c), the
// ratio to (a) measured in the same run (x-none).
//
// (b) keys by the same metadata field as (c) and uses an in-memory
// repository with the semantics of Watermill's
// NewMapExpiringKeyRepository(time.Minute), without its sweeper goroutine,
// which never stops and would fail the leak check.
func BenchmarkMiddleware(b *testing.B) {
	srv := testenv.Redis(b)
	var none float64
	b.Run("None", func(b *testing.B) {
		none = benchRouter(b, nil)
	})
	b.Run("WatermillDeduplicator", func(b *testing.B) {
		d := &middleware.Deduplicator{
			KeyFactory: middleware.NewMessageHasherFromMetadataField(keyField),
			Repository: &memoryRepository{window: time.Minute, seen: map[string]time.Time{}},
			Timeout:    time.Minute,
		}
		reportRatio(b, benchRouter(b, d.Middleware), none)
	})
	b.Run("Idemq", func(b *testing.B) {
		d := newDedup(b, redisStore(b, srv), idemqwatermill.Config{})
		reportRatio(b, benchRouter(b, d.Middleware), none)
	})
}

// reportRatio reports rate/none, when (a) ran in the same invocation.
func reportRatio(b *testing.B, rate, none float64) {
	if none > 0 {
		b.ReportMetric(rate/none, "x-none")
	}
}

var benchSeq atomic.Int64

// benchRouter pushes b.N messages with new keys through a router with mw
// and returns (and reports) messages per second.
func benchRouter(b *testing.B, mw wmessage.HandlerMiddleware) float64 {
	ps := gochannel.NewGoChannel(gochannel.Config{}, wm.NopLogger{})
	r, err := wmessage.NewRouter(wmessage.RouterConfig{}, wm.NopLogger{})
	if err != nil {
		b.Fatal(err)
	}
	if mw != nil {
		r.AddMiddleware(mw)
	}
	msgs := make([]*wmessage.Message, b.N)
	handledCh := make([]chan struct{}, b.N)
	run := strconv.FormatInt(benchSeq.Add(1), 10)
	for i := range msgs {
		msgs[i] = newMsg("bench-"+run+"-"+strconv.Itoa(i), "payload")
		msgs[i].Metadata.Set("i", strconv.Itoa(i))
		handledCh[i] = make(chan struct{})
	}
	var handled atomic.Int64
	r.AddConsumerHandler("h", "in", ps, func(m *wmessage.Message) error {
		handled.Add(1)
		i, _ := strconv.Atoi(m.Metadata.Get("i"))
		close(handledCh[i])
		return nil
	})
	done := make(chan error, 1)
	go func() { done <- r.Run(context.Background()) }()
	<-r.Running()

	b.ResetTimer()
	start, cpu := time.Now(), processCPU()
	var next atomic.Int64
	var wg sync.WaitGroup
	for range benchInFlight {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(len(msgs)); i = next.Add(1) - 1 {
				if err := ps.Publish("in", msgs[i]); err != nil {
					b.Error(err)
				}
				<-handledCh[i]
			}
		})
	}
	wg.Wait()
	rate := float64(b.N) / time.Since(start).Seconds()
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/msg")
	if handled.Load() != int64(b.N) {
		b.Errorf("handled %d messages, want %d", handled.Load(), b.N)
	}
	b.ReportMetric(rate, "msgs/s")
	_ = r.Close()
	<-done
	_ = ps.Close()
	return rate
}

// memoryRepository is middleware.ExpiringKeyRepository in memory with a
// fixed window, like Watermill's default, expiring keys lazily.
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

// processCPU is this process's CPU time so far, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
