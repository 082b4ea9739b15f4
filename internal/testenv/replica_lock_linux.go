package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// lockReplicaFile takes an exclusive lock on a file named after addr in
// the temporary directory, so that tests of other processes (two go test
// runs on the same services) wait too, and releases it at t's cleanup.
func lockReplicaFile(t testing.TB, addr string) {
	name := filepath.Join(os.TempDir(), "idemq-replica-"+strings.NewReplacer(":", "_", "/", "_").Replace(addr)+".lock")
	f, err := os.OpenFile(name, os.O_CREATE|os.O_RDWR, 0o666)
	if err != nil {
		t.Fatalf("testenv: the replica's lock file: %v", err)
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		_ = f.Close()
		t.Fatalf("testenv: locking %s: %v", name, err)
	}
	t.Cleanup(func() { _ = f.Close() }) // closing the file releases the lock
}
