package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// KeyInfo is what an operator sees of one key of a Store: Inspect
// returns it, Scan a page of them. The zero KeyInfo is a free key with no
// name.
type KeyInfo struct {
	Key       string       // the user key
	RecordKey string       // the Redis key that holds its record
	State     dedupe.State // Absent (free), Claimed or Committed
	// Token is the owner token of a claim, or the token of the run that
	// committed the value.
	Token string
	// Watched reports a claim that a waiter marked ('W'+token), so that its
	// commit or release is published. A waiter always marks the claim
	// before it waits; the mark stays until the claim ends, so a waiter
	// waits now, or did.
	Watched bool
	// TTL is what Redis's PTTL reports: a claim's remaining lease, or a
	// committed value's remaining time to live. 0 for a free key, 1ns for a
	// record that expires now, NoExpiry for a record stored without an
	// expiry (a guard never stores one).
	TTL time.Duration
	// Value is the committed value as stored (encoded by the run's codec),
	// for Committed keys read by Inspect; Scan leaves it nil.
	Value []byte
	// Err is set, in Scan results only, for a record key that holds no
	// record of ours: a *DecodeError (Inspect returns it as its error).
	Err error
}

// NoExpiry is KeyInfo.TTL of a record stored without an expiry.
const NoExpiry time.Duration = -1

// Inspect reads what key holds, with its remaining lease or TTL, in one
// atomic step. A free key is a KeyInfo with State Absent and no error. A
// record key that holds something else than a record of ours (another type,
// or a string that is neither a claim nor a committed value) is a
// *DecodeError, returned with the KeyInfo read so far (Key, RecordKey, TTL).
func (s *Store) Inspect(ctx context.Context, key string) (KeyInfo, error) {
	if err := s.adminCheck(key); err != nil {
		return KeyInfo{}, err
	}
	rk := s.recordKey(key)
	reply, err := inspectScript.RunRO(ctx, s.client, []string{rk}, 0, 0).Slice()
	if err != nil {
		return KeyInfo{Key: key, RecordKey: rk}, adminErr("inspecting", key, err)
	}
	return readInspect(key, rk, reply, false)
}

// ForceRelease deletes key's claim whatever its owner token, and publishes
// a release on the key's channel, marked by a waiter or not, so that every
// waiter re-reads the key and claims it at once instead of waiting for the
// lease to run out. It is for a claim stuck with a long lease (its owner
// crashed): an owner that is still alive loses its lease (its renewals are
// refused, and its commit too once another owner has claimed the key) but
// learns it only by its own clock, and its work may then run twice.
//
// It reads the claim's token, then deletes the claim of that token (two
// round trips), so that a call the client resends after a lost reply never
// deletes a claim taken after the first one's release; if the claim changes
// in between, it reads again (three times at most). It reports false, and
// deletes nothing, when the key is free or holds a committed value (see
// Forget); a record that is none of ours is a *DecodeError. To release one
// owner's claim only, use Release with its token.
func (s *Store) ForceRelease(ctx context.Context, key string) (released bool, err error) {
	return s.adminDelete(ctx, key, dedupe.Claimed, "f", "force-releasing")
}

// Forget deletes key's committed value, whichever run committed it, so
// that the next delivery of the key runs its work again. It reads the
// committing run's token, then deletes the value of that token (two round
// trips; a resent call never deletes a value committed after the first
// one's deletion). It reports false, and deletes nothing, when the key is
// free or claimed; a record that is none of ours is a *DecodeError. Nobody
// waits for a committed key, so nothing is published.
func (s *Store) Forget(ctx context.Context, key string) (forgotten bool, err error) {
	return s.adminDelete(ctx, key, dedupe.Committed, "d", "forgetting")
}

// ForceReleaseToken is ForceRelease fenced on token: it deletes key's claim
// only if token owns it (marked by a waiter or not), and publishes the
// release as ForceRelease does. It is for an operator who was shown the
// claim (Inspect) and confirmed: if the key changed meanwhile (the owner
// released it, another owner claimed it), it reports false and deletes
// nothing. An invalid token is ErrInvalidOption.
func (s *Store) ForceReleaseToken(ctx context.Context, key, token string) (released bool, err error) {
	return s.adminDeleteToken(ctx, key, token, "f", "force-releasing")
}

// ForgetToken is Forget fenced on token: it deletes key's committed value
// only if the run of token committed it. It is for an operator who was
// shown the value (Inspect) and confirmed: if the key changed meanwhile
// (forgotten, and committed again by another run), it reports false and
// deletes nothing. An invalid token is ErrInvalidOption.
func (s *Store) ForgetToken(ctx context.Context, key, token string) (forgotten bool, err error) {
	return s.adminDeleteToken(ctx, key, token, "d", "forgetting")
}

// adminAttempts bounds the reads of ForceRelease and Forget when the record
// changes between their read and their deletion.
const adminAttempts = 3

// adminDelete deletes key's record if it is in state, with the admin
// script's op, fenced by the token it read.
func (s *Store) adminDelete(ctx context.Context, key string, state dedupe.State, op, doing string) (bool, error) {
	if err := s.adminCheck(key); err != nil {
		return false, err
	}
	rk := s.recordKey(key)
	for range adminAttempts {
		replies, err := s.inspectMany(ctx, []string{rk}, false)
		if err != nil {
			return false, adminErr(doing, key, err)
		}
		info, err := readInspect(key, rk, replies[0], true)
		if err != nil || info.State != state {
			return false, err
		}
		if ok, err := s.adminDeleteOf(ctx, key, info.Token, op, doing); ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// adminDeleteToken checks key and token, then deletes as adminDeleteOf.
func (s *Store) adminDeleteToken(ctx context.Context, key, token, op, doing string) (bool, error) {
	if err := s.adminCheck(key); err != nil {
		return false, err
	}
	if err := dedupe.CheckToken(token); err != nil {
		return false, err
	}
	return s.adminDeleteOf(ctx, key, token, op, doing)
}

// adminDeleteOf deletes key's record with the admin script's op if token's
// claim or value is stored there.
func (s *Store) adminDeleteOf(ctx context.Context, key, token, op, doing string) (bool, error) {
	n, err := adminScript.Run(ctx, s.client, []string{s.recordKey(key)}, op, s.publish, token).Int()
	if err != nil {
		return false, adminErr(doing, key, err)
	}
	return n == 1, nil
}

// adminCheck refuses an invalid key and a closed store.
func (s *Store) adminCheck(key string) error {
	if s.sub.isClosed() {
		return dedupe.ErrStoreClosed
	}
	return dedupe.CheckKey(key)
}

// adminErr is the error of a failed operator call: a context error as it
// is, anything else a *StoreError.
func adminErr(doing, key string, err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &dedupe.StoreError{Op: doing, Key: key, Err: err}
}

// readInspect reads a reply of the inspect script for key, stored at rk;
// head says the script returned only the first bytes of the string (Scan),
// so the value is left out.
func readInspect(key, rk string, reply []any, head bool) (KeyInfo, error) {
	info := KeyInfo{Key: key, RecordKey: rk}
	typ, _ := reply[0].(string)
	if typ == "none" || len(reply) < 3 {
		return info, nil
	}
	pttl, _ := reply[2].(int64)
	info.TTL = inspectTTL(pttl)
	cur, ok := reply[1].(string)
	if !ok {
		return info, &dedupe.DecodeError{Key: key, Err: fmt.Errorf("record key %q holds a %s, not a string", rk, typ)}
	}
	rec, err := parseRecord(key, cur)
	if err != nil {
		return info, err
	}
	info.State, info.Token, info.Watched = rec.State, rec.Token, cur[0] == 'W'
	if rec.State == dedupe.Committed && !head {
		info.Value = rec.Value
	}
	return info, nil
}

// inspectTTL reads the PTTL of a record that exists.
func inspectTTL(pttl int64) time.Duration {
	if pttl == -1 {
		return NoExpiry
	}
	return ttlFromPTTL(pttl)
}
