package dedupe

import (
	"fmt"
	"strings"
	"time"
)

// MaxKeyLen is the longest key Run accepts, in bytes.
const MaxKeyLen = 1024

// MaxTokenLen is the longest owner token a Store accepts, in bytes. Guards
// use 16 characters (12 random bytes in base64url; earlier versions 32 hex
// digits), and with a fingerprint '~' and 32 hex digits more.
const MaxTokenLen = 80

// CheckKey rejects (ErrInvalidKey) a key Run does not accept. Keys are
// binary-safe: any bytes but none at all, up to MaxKeyLen. A store's
// operator calls that take a key check it the same way.
func CheckKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: key of %d bytes is longer than MaxKeyLen (%d)", ErrInvalidKey, len(key), MaxKeyLen)
	}
	return nil
}

// CheckToken rejects (ErrInvalidOption) an owner token a Store cannot
// keep: empty, longer than MaxTokenLen, or with a ':' (a committed record
// stores the token in front of the value, separated by ':'). Every Store
// call that takes a token refuses such a token the same way; a command
// line can check one before it connects.
func CheckToken(token string) error {
	if token == "" || len(token) > MaxTokenLen || strings.Contains(token, ":") {
		return fmt.Errorf("%w: owner token %q: want 1 to %d bytes without ':'", ErrInvalidOption, token, MaxTokenLen)
	}
	return nil
}

// StoredDuration is how long a store keeps a TTL or lease: d rounded up to
// whole milliseconds (Redis's unit), so that every store agrees; a store
// writer applies it to every TTL and lease it is given. Options reject
// durations under a millisecond; this guards direct Store callers.
func StoredDuration(d time.Duration) time.Duration {
	return max((d+time.Millisecond-1)/time.Millisecond, 1) * time.Millisecond
}
