//go:build !linux

package testenv

import "testing"

// lockReplicaFile does nothing here: the replica tests run on Linux, where
// it keeps the tests of other processes away from a frozen replica.
func lockReplicaFile(testing.TB, string) {}
