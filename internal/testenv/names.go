package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
)

// Name returns a name unique to this call, readable in logs: the test's name
// with anything but letters, digits, '-' and '_' replaced, plus random hex.
func Name(t testing.TB) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '_'
	}, t.Name())
	if len(clean) > 60 {
		clean = clean[len(clean)-60:]
	}
	return clean + "-" + hex.EncodeToString(b[:])
}
