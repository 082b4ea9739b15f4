package consume

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/nullstore"
)

// BenchmarkSession measures the engine's own cost per message: one session
// over 8 partitions fed in batches of 500 fresh keys (the adapters'
// default BatchSize) on a store that answers at once, with a handler that
// only calls end, so that what is left is the engine's and the Batch's
// bookkeeping. cpu-µs/op is this process's CPU per message, trips/op the
// guard's store round trips per message.
func BenchmarkSession(b *testing.B) {
	const parts, batch = 8, 500
	cfg := testConfig(nullstore.Store{})
	cfg.MaxInFlight = 256
	cfg.Guard = nil
	var done atomic.Int64
	all := make(chan struct{})
	total := int64(b.N)
	cfg.Handle = func(ctx context.Context, m msg, end dedupe.End[string]) error {
		end("")
		if done.Add(1) == total {
			close(all)
		}
		return nil
	}
	e, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	msgs := make([][]msg, parts)
	for i := range b.N {
		p := i % parts
		msgs[p] = append(msgs[p], msg{part: p, offset: int64(len(msgs[p])), key: "k" + strconv.Itoa(i)})
	}
	cpu := processCPU()
	b.ReportAllocs()
	b.ResetTimer()
	s := e.Session(context.Background(), SessionConfig{Commit: func(map[Partition]int64) error { return nil },
		CommitEvery: 1000, CommitInterval: time.Second})
	var wg sync.WaitGroup
	for p, ms := range msgs {
		wg.Go(func() { s.Partition(Partition{Topic: "t", ID: p}, 0, feedAll(ms), batch) })
	}
	<-all
	s.Halt(context.Canceled)
	wg.Wait()
	if err := s.End(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
	b.ReportMetric(float64(e.guard.RoundTrips())/float64(b.N), "trips/op")
}

// feedAll returns a partition's next function over ms: as many as fit the
// buffer, then nothing until the session stops.
func feedAll(ms []msg) func(context.Context, []msg) []msg {
	return func(stop context.Context, buf []msg) []msg {
		if len(ms) == 0 {
			<-stop.Done()
			return nil
		}
		n := min(len(ms), cap(buf))
		buf, ms = append(buf, ms[:n]...), ms[n:]
		return buf
	}
}

// processCPU is this process's CPU time so far, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
