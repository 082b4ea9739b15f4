package testenv

import (
	"fmt"
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// Main runs a package's tests, stops the containers testenv started (if any)
// and then fails the run if any goroutine is still alive. Every package with
// tests calls it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	stopContainers()
	if code == 0 {
		if err := findLeaks(); err != nil {
			fmt.Fprintln(os.Stderr, "testenv: goroutines leaked:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// leakGrace is how long a goroutine may take to end after the tests before
// it counts as leaked: a library's goroutine that ends on its own shortly
// after Close (watermill-redisstream's reader sleeps 500ms after a read
// error) is not a leak, one that is still there after this is.
const leakGrace = 5 * time.Second

// findLeaks polls goleak.Find (which retries for well under a second)
// until no goroutine is left or leakGrace has passed.
func findLeaks() error {
	deadline := time.Now().Add(leakGrace)
	err := goleak.Find()
	for err != nil && time.Now().Before(deadline) {
		err = goleak.Find()
	}
	return err
}
