package redisstore

import (
	"fmt"
	"strings"

	"github.com/idemq/idemq/dedupe"
)

// The strings a Store keeps under a key, and the payloads it publishes
// on the key's channel:
//
//	C<token>                a claim
//	W<token>                a claim that a waiter marked as watched: its
//	                        commit or release is published
//	V<token>:<value>        a committed value (token: the committing run's)
//
//	V<token>:<value>        published when a watched claim, or a free key, is committed
//	R                       published when a watched claim is released
//
// An unmarked claim's commit and release publish nothing: nobody waits for
// them, and a waiter marks the claim (see watched.lua) before it waits.

// claimRecord is the stored string of token's claim.
func claimRecord(token string) string { return "C" + token }

// appendClaimRecord appends claimRecord(token) to b.
func appendClaimRecord(b []byte, token string) []byte { return append(append(b, 'C'), token...) }

// watchedRecord is the stored string of token's claim once a waiter marked it.
func watchedRecord(token string) string { return "W" + token }

// valueRecord is the stored string of a value committed by token's run.
func valueRecord(token string, value []byte) string { return "V" + token + ":" + string(value) }

// appendValueRecord appends valueRecord(token, value) to b.
func appendValueRecord(b []byte, token string, value []byte) []byte {
	return append(append(append(append(b, 'V'), token...), ':'), value...)
}

// ownClaim reports whether v is token's claim, marked or not.
func ownClaim(v, token string) bool {
	return len(v) == len(token)+1 && (v[0] == 'C' || v[0] == 'W') && v[1:] == token
}

// validToken reports a token a store can have written: see CheckToken.
func validToken(token string) bool { return dedupe.CheckToken(token) == nil }

// parseRecord reads the stored string of key.
func parseRecord(key, v string) (dedupe.Record, error) {
	switch {
	case v == "": // a nil reply is absent; an empty string is no record of ours
	case v[0] == 'C', v[0] == 'W':
		if validToken(v[1:]) {
			return dedupe.Record{State: dedupe.Claimed, Token: v[1:]}, nil
		}
	case v[0] == 'V':
		if token, value, ok := strings.Cut(v[1:], ":"); ok && validToken(token) {
			return dedupe.Record{State: dedupe.Committed, Token: token, Value: []byte(value)}, nil
		}
	}
	return dedupe.Record{}, &dedupe.DecodeError{Key: key, Err: fmt.Errorf("stored string %.16q is neither 'C'+token, 'W'+token nor 'V'+token+':'+value", v)}
}

// parseEvent reads a notification payload.
func parseEvent(payload string) (dedupe.Event, bool) {
	switch {
	case payload == "R":
		return dedupe.Event{Kind: dedupe.EventRelease}, true
	case len(payload) > 0 && payload[0] == 'V':
		if token, value, ok := strings.Cut(payload[1:], ":"); ok {
			return dedupe.Event{Kind: dedupe.EventCommit, Value: []byte(value), Token: token}, true
		}
	}
	return dedupe.Event{}, false
}
