package dedupe_test

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

// BenchmarkRunOverhead measures the guard's own cost per Run: claim-first
// Runs of fresh keys from 64 goroutines on a store that answers at once
// (nullstore, with a Done channel as the stores of this module have), so
// that what is left is the guard's bookkeeping: its goroutines, timers,
// contexts, allocations. cpu-µs/op is this process's CPU per Run.
func BenchmarkRunOverhead(b *testing.B) {
	closing, closeAll := context.WithCancel(context.Background())
	defer closeAll()
	store := closingStore{closing: closing}
	var seq atomic.Int64
	fn := func(ctx context.Context, end dedupe.End[struct{}]) (struct{}, error) {
		end(struct{}{})
		return struct{}{}, nil
	}
	ctx := context.Background()
	cpu := processCPU()
	var wg sync.WaitGroup
	b.ReportAllocs()
	b.ResetTimer()
	for range 64 {
		wg.Go(func() {
			for i := seq.Add(1); i <= int64(b.N); i = seq.Add(1) {
				if _, err := dedupe.Run(ctx, store, "k"+strconv.FormatInt(i, 36), fn); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(processCPU()-cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/op")
}

// closingStore is nullstore with the optional methods by which the stores
// of this module tell a claim-mode Run that they closed.
type closingStore struct {
	nullstore.Store
	closing context.Context
}

func (s closingStore) Done() <-chan struct{} { return s.closing.Done() }

func (s closingStore) AfterClose(f func()) func() bool { return context.AfterFunc(s.closing, f) }

// processCPU is this process's CPU time so far, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
