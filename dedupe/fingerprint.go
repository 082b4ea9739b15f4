package dedupe

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// WithFingerprint gives the run a fingerprint of its payload (the message
// body, or the fields that matter): its digest is kept with the claim and
// with the committed value, and a later run of the key with a different
// fingerprint gets a *KeyReusedError instead of the stored value, so that a
// producer that sends a different payload under an old key is caught, not
// answered with the old result. Runs without a fingerprint, and records
// written without one, are not compared. A Batch takes fingerprints per key
// (ClaimKeys).
func WithFingerprint(fp []byte) RunOption {
	return runOnly(func(c *runConfig) { c.fingerprint = fp })
}

// KeyReusedError reports a key whose stored claim or value was made for a
// different payload than this run's (see WithFingerprint): the key was
// reused. Neither the work nor a duplicate's answer is right for it; treat
// the message as bad data (do not ack it as a duplicate).
type KeyReusedError struct {
	Key    string
	Stored string // the digest of the stored fingerprint
	Given  string // the digest of this run's fingerprint
}

func (e *KeyReusedError) Error() string {
	return fmt.Sprintf("dedupe: key %q was reused for another payload (fingerprint %s, stored %s)", e.Key, e.Given, e.Stored)
}

// fingerprintSep ends a token's random part when a fingerprint's digest
// follows: the digest travels inside the owner token, so every store keeps
// it, and a retried claim or commit still finds its own record.
const fingerprintSep = "~"

// digest is what is kept of a fingerprint: the first 16 bytes of its
// SHA-256, hex-encoded.
func digest(fp []byte) string {
	sum := sha256.Sum256(fp)
	return hex.EncodeToString(sum[:16])
}

// printedToken returns token carrying the digest of fp (none when fp is nil).
func printedToken(token string, fp []byte) string {
	if fp == nil {
		return token
	}
	return token + fingerprintSep + digest(fp)
}

// fingerprintOf returns the digest a token carries, or "".
func fingerprintOf(token string) string {
	_, d, _ := strings.Cut(token, fingerprintSep)
	return d
}

// reused returns a *KeyReusedError when the record of token was made for
// another payload than this guard's.
func (g *guard[V]) reused(token string) error {
	mine, theirs := fingerprintOf(g.token), fingerprintOf(token)
	if mine == "" || theirs == "" || mine == theirs {
		return nil
	}
	return &KeyReusedError{Key: g.key, Stored: theirs, Given: mine}
}
