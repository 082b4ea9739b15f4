package dedupe

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"sync/atomic"
)

// An owner token names one run, or one ticket of a Batch: a store keeps it
// in the key's claim, so that only the owner's commit, renewal or release
// lands on that claim, and with the committed value, so that a resent
// commit finds its own value and wins. Guards make tokens of tokenBytes
// random bytes in unpadded base64url: 16 characters of [A-Za-z0-9_-], so
// never ':' (see CheckToken) nor fingerprintSep.
//
// 96 random bits are enough: a token must differ only from the tokens of
// the other runs of its key while their records live, and the chance that
// any two of n runs of one key share a token is below n²/2^97 (under 10^-16
// for a million runs of one key). It is no secret: whoever can read the
// record can write the key. The short token keeps a committed record small:
// "V" + token + ":" + value fits Redis's one-allocation string (embstr, up
// to 44 bytes) for a value of up to 26 bytes. Stores treat tokens as
// opaque, so records of earlier versions (32 hex digits) stay valid.
const tokenBytes = 12

// tokenEncoding writes a token's bytes.
var tokenEncoding = base64.RawURLEncoding

// newToken returns a random token: a run's identity and claim owner token.
func newToken() string {
	var b [tokenBytes]byte
	_, _ = rand.Read(b[:])
	return tokenEncoding.EncodeToString(b[:])
}

// tokenSeq hands out a Batch's ticket tokens without a random read per
// ticket: the n-th token is a random base with n XORed into its last 8
// bytes. A sequence's tokens are distinct, and each is uniform over the
// 2^96 values, as newToken's are: two sequences' tokens meet no more often
// than newToken's.
type tokenSeq struct {
	base [tokenBytes]byte
	n    atomic.Uint64
}

func newTokenSeq() *tokenSeq {
	s := &tokenSeq{}
	_, _ = rand.Read(s.base[:])
	return s
}

// next returns the sequence's next token.
func (s *tokenSeq) next() string {
	b := s.base
	tail := b[tokenBytes-8:]
	binary.BigEndian.PutUint64(tail, binary.BigEndian.Uint64(tail)^s.n.Add(1))
	return tokenEncoding.EncodeToString(b[:])
}
