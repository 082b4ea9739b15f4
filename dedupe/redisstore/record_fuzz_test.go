package redisstore

import (
	"strings"
	"testing"

	"github.com/idemq/idemq/dedupe"
)

// FuzzParseRecord feeds the record decoder any stored string: it never
// panics, a string it accepts is one the store could have written (a valid
// token), and the records the store writes parse back to what was written.
func FuzzParseRecord(f *testing.F) {
	for _, s := range []string{"", "C", "Ctok", "Wtok", "V:", "Vtok:", "Vtok:value", "Vtok:va:lue", "X", "C" + strings.Repeat("t", 90), "Vt~0123:v"} {
		f.Add(s, "tok", []byte("v"))
	}
	f.Fuzz(func(t *testing.T, stored, token string, value []byte) {
		rec, err := parseRecord("k", stored)
		if err == nil && rec.State != dedupe.Absent && dedupe.CheckToken(rec.Token) != nil {
			t.Fatalf("parseRecord(%q) accepted the token %q, which no store writes", stored, rec.Token)
		}
		if dedupe.CheckToken(token) != nil {
			return
		}
		for _, s := range []string{claimRecord(token), watchedRecord(token)} {
			if rec, err := parseRecord("k", s); err != nil || rec.State != dedupe.Claimed || rec.Token != token {
				t.Fatalf("parseRecord(%q) = %+v, %v; want the claim of %q", s, rec, err, token)
			}
		}
		s := valueRecord(token, value)
		if rec, err := parseRecord("k", s); err != nil || rec.State != dedupe.Committed || rec.Token != token || string(rec.Value) != string(value) {
			t.Fatalf("parseRecord(%q) = %+v, %v; want the value %q of %q", s, rec, err, value, token)
		}
		if ev, ok := parseEvent(s); !ok || ev.Kind != dedupe.EventCommit || ev.Token != token || string(ev.Value) != string(value) {
			t.Fatalf("parseEvent(%q) = %+v, %v", s, ev, ok)
		}
	})
}
