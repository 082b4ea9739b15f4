package redisstore

import (
	"strings"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// slot is Redis Cluster's hash slot of key: CRC16 (XMODEM) of its hash tag
// (the bytes between the first '{' and the first '}' after it, if not
// empty) or of the whole key, modulo 16384.
func slot(key string) uint16 {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for k := 0; k < len(key); k++ {
		crc ^= uint16(key[k]) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return crc % 16384
}

func TestSlotMatchesRedis(t *testing.T) {
	t.Parallel()
	// Values from the Redis Cluster specification and CLUSTER KEYSLOT.
	for key, want := range map[string]uint16{"123456789": 12739, "foo": 12182, "{user1000}.following": 3443, "{}x": 10595} {
		if got := slot(key); got != want {
			t.Errorf("slot(%q) = %d, want %d", key, got, want)
		}
	}
}

// FuzzRecordKeySlot checks that a key's record and notification channel
// share one Cluster slot whatever bytes the key holds, and that distinct
// keys get distinct records.
func FuzzRecordKeySlot(f *testing.F) {
	for _, k := range []string{"k", "}", "{", "}x", "{}", "a{b}c", "{x}y", "}{", "x{}", "{{}}", "\x00{"} {
		f.Add(k, "other")
	}
	s := &Store{prefix: DefaultPrefix}
	f.Fuzz(func(t *testing.T, key, other string) {
		rec, ch := s.recordKey(key), s.channel(key)
		if slot(rec) != slot(ch) {
			t.Fatalf("key %q: record %q in slot %d, channel %q in slot %d", key, rec, slot(rec), ch, slot(ch))
		}
		if key != other && rec == s.recordKey(other) {
			t.Fatalf("keys %q and %q share the record %q", key, other, rec)
		}
	})
}

// TestPreparedArgsMatchLayout: the arguments prepare cuts from one buffer
// are the record key, claim and value record as their own functions define
// them, and the lease and TTL in ms, for every kind of key.
func TestPreparedArgsMatchLayout(t *testing.T) {
	t.Parallel()
	for _, prefix := range []string{DefaultPrefix, ""} {
		s := &Store{prefix: prefix}
		for _, key := range []string{"k", "order-17", "", "a{b}c", "}", "\x00"} {
			for _, kind := range []dedupe.OpKind{dedupe.OpClaim, dedupe.OpCommit, dedupe.OpRenew} {
				op := dedupe.Op{Kind: kind, Key: key, Token: "tok-0123456789ab", Value: []byte(`{"id":1}`),
					Lease: 1500 * time.Millisecond, TTL: time.Hour}
				p := &execPlan{store: s, ops: []dedupe.Op{op}, results: make([]dedupe.OpResult, 1)}
				var o pendingOp
				p.prepare(&o, 0)
				want := [5]string{s.recordKey(key), claimRecord(op.Token), "", "1500", ""}
				if kind == dedupe.OpCommit {
					want[2], want[4] = valueRecord(op.Token, op.Value), "3600000"
				}
				if got := [5]string{o.key.String(), o.claim.String(), o.value.String(), o.lease.String(), o.ttl.String()}; got != want {
					t.Errorf("prefix %q, %v of %q: key, claim, value, lease, ttl = %q, want %q", prefix, kind, key, got, want)
				}
			}
		}
	}
}

// TestPrepareAllocatesOnce: an op's arguments take one allocation (not
// parallel: AllocsPerRun refuses parallel tests).
func TestPrepareAllocatesOnce(t *testing.T) {
	s := &Store{prefix: DefaultPrefix}
	for _, kind := range []dedupe.OpKind{dedupe.OpClaim, dedupe.OpCommit} {
		op := dedupe.Op{Kind: kind, Key: "order-17", Token: "tok-0123456789ab", Value: []byte(`{"id":1}`), Lease: time.Minute, TTL: 24 * time.Hour}
		p := &execPlan{store: s, ops: []dedupe.Op{op}, results: make([]dedupe.OpResult, 1)}
		var o pendingOp
		if n := testing.AllocsPerRun(10, func() { p.prepare(&o, 0) }); n != 1 {
			t.Errorf("%v: prepare made %v allocations, want 1", kind, n)
		}
	}
}

func TestTTLFromPTTL(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pttl int64
		want time.Duration
	}{
		{1500, 1500 * time.Millisecond},
		{1, time.Millisecond},
		{0, time.Nanosecond},  // expires within this millisecond: now, not "unknown"
		{-2, time.Nanosecond}, // gone meanwhile: free now
		{-1, 0},               // no expiry: unknown
	} {
		if got := ttlFromPTTL(c.pttl); got != c.want {
			t.Errorf("ttlFromPTTL(%d) = %v, want %v", c.pttl, got, c.want)
		}
	}
}
