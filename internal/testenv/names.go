package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// Name returns a name unique to this call, readable in logs: the test's name
// with anything but letters, digits, '-' and '_' replaced, plus random hex.
// IDEMQ_TEST_NAME_PREFIX, if set, starts every name (so every topic, group
// and Redis key prefix of the run): runs that share the services tell
// theirs apart by it.
func Name(t testing.TB) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := t.Name()
	if len(name) > 60 {
		name = name[len(name)-60:]
	}
	return clean(os.Getenv("IDEMQ_TEST_NAME_PREFIX")+name) + "-" + hex.EncodeToString(b[:])
}

// clean replaces anything but letters, digits, '-' and '_' in s.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
