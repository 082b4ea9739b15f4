// Package testwait bounds a test goroutine's waits on channels, so that a
// run that failed before signalling (or a service that never answers)
// fails its test with what it waited for instead of hanging the package
// until go test's timeout.
package testwait

import (
	"testing"
	"time"
)

// Bound is how long Recv waits.
const Bound = time.Minute

// Recv receives from ch within Bound; what names the awaited event in the
// failure.
func Recv[T any](t testing.TB, ch <-chan T, what string) T {
	t.Helper()
	timer := time.NewTimer(Bound)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("waited %v for %s", Bound, what)
		panic("unreachable") // Fatalf does not return
	}
}
