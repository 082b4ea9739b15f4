package testenv

import (
	"io"
	"os"
	"strings"
	"testing"
)

// Stdout runs fn, which must not run in parallel with other tests, and
// returns what it printed to os.Stdout. An error from fn fails the test,
// with what fn printed.
func Stdout(t testing.TB, fn func() error) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	orig := os.Stdout
	os.Stdout = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(r)
		done <- string(b)
	}()
	ferr := fn()
	os.Stdout = orig
	_ = w.Close()
	out := <-done
	_ = r.Close()
	if ferr != nil {
		t.Fatalf("testenv: the program returned %v; it printed %q", ferr, strings.TrimSpace(out))
	}
	return out
}
