package redisstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testenv"
)

func TestGlobMatch(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"*", "", true},
		{"*", "orders/1", true}, // '*' crosses '/' as in Redis, unlike path.Match
		{"order-*", "order-17", true},
		{"order-*", "orde", false},
		{"*-17", "order-17", true},
		{"a*b*c", "axxbyyc", true},
		{"a*b*c", "axxbyy", false},
		{"?", "x", true},
		{"?", "", false},
		{"k[0-9]", "k7", true},
		{"k[0-9]", "kx", false},
		{"k[^0-9]", "kx", true},
		{"k[^0-9]", "k7", false},
		{"k[abc]", "kb", true},
		{"k[9-0]", "k5", true}, // a reversed range, as Redis reads it
		{`k\*`, "k*", true},
		{`k\*`, "kx", false},
		{`k[\]]`, "k]", true},
		{"{x}*", "{x}y", true},
		{"*a", "aaaa", true},
	} {
		if got := globMatch(c.pattern, c.s); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", c.pattern, c.s, got, c.want)
		}
	}
}

func TestCheckGlobRejectsMalformed(t *testing.T) {
	t.Parallel()
	for _, p := range []string{"[abc", `abc\`, "x[^"} {
		if err := checkGlob(p); !errors.Is(err, dedupe.ErrInvalidOption) {
			t.Errorf("checkGlob(%q) = %v, want ErrInvalidOption", p, err)
		}
	}
	for _, p := range []string{"", "*", "[a-z]*", `\[`} {
		if err := checkGlob(p); err != nil {
			t.Errorf("checkGlob(%q) = %v, want nil", p, err)
		}
	}
}

func TestScanPosRoundTrips(t *testing.T) {
	t.Parallel()
	for _, p := range []scanPos{
		{},
		{cursor: 1536},
		{cursor: 7, after: order("idemq:{k}"), next: 1031},
		{cursor: 7, after: order("idemq:{k}")}, // cut the last SCAN call (next 0)
		{addr: "127.0.0.1:17002", cursor: 42, after: order("x"), next: 9},
		{addr: "[::1]:7000"},
	} {
		got, err := parseScanPos(p.String())
		if err != nil || got != p {
			t.Errorf("parseScanPos(%q) = %+v, %v; want %+v", p.String(), got, err, p)
		}
	}
	for _, bad := range []string{"x", "1.abc", "-1", "1.@a", "1@", "1.000000000000000g", "1.0123456789abcdef", "1.0123456789abcdef.x"} {
		if _, err := parseScanPos(bad); !errors.Is(err, dedupe.ErrInvalidOption) {
			t.Errorf("parseScanPos(%q) = %v, want ErrInvalidOption", bad, err)
		}
	}
}

// FuzzUserKeyInvertsRecordKey checks that every key's record key maps back
// to it, and that the mapping accepts no other names.
func FuzzUserKeyInvertsRecordKey(f *testing.F) {
	for _, k := range []string{"k", "}", "{", "a{b}c", "{x}y", "#cas-probe", "x:events", "#0123456789abcdef}:x"} {
		f.Add(k, "idemq:{"+k+"}:events")
	}
	s := &Store{prefix: DefaultPrefix}
	f.Fuzz(func(t *testing.T, key, name string) {
		if key != "" {
			if got, ok := s.userKey(s.recordKey(key)); !ok || got != key {
				t.Fatalf("userKey(recordKey(%q)) = %q, %v", key, got, ok)
			}
		}
		if k, ok := s.userKey(name); ok && s.recordKey(k) != name {
			t.Fatalf("userKey(%q) = %q, whose record key is %q", name, k, s.recordKey(k))
		}
	})
}

func TestUserKeySkipsOtherNames(t *testing.T) {
	t.Parallel()
	s := &Store{prefix: DefaultPrefix}
	for _, name := range []string{
		"idemq:", "idemq:{}", "idemq:{k}:events", "idemq:k", "other:{k}", "idemq:{#0011223344556677}:k", // a hashed name of a key without braces
		"idemq:{a{b}", "idemq:{#zz}:a{b}",
	} {
		if k, ok := s.userKey(name); ok {
			t.Errorf("userKey(%q) = %q, want no key", name, k)
		}
	}
}

// TestAdminScriptIsFencedByToken checks what makes ForceRelease and Forget
// safe to resend: the deletion names the token read before it, and leaves
// a record of another token alone (one written after the first deletion).
func TestAdminScriptIsFencedByToken(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	ctx := context.Background()
	s := &Store{client: srv.Client, prefix: srv.Prefix, publish: "PUBLISH"}
	for _, c := range []struct{ op, later, deleted string }{
		{"f", claimRecord("new"), watchedRecord("old")},
		{"f", watchedRecord("new"), claimRecord("old")},
		{"d", valueRecord("new", []byte("v")), valueRecord("old", []byte("v"))},
	} {
		rk := s.recordKey("k-" + c.op + c.later)
		for _, stored := range []string{c.later, c.deleted} {
			if err := srv.Client.Set(ctx, rk, stored, time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			n, err := adminScript.Run(ctx, srv.Client, []string{rk}, c.op, s.publish, "old").Int()
			if want := map[bool]int{true: 1, false: 0}[stored == c.deleted]; err != nil || n != want {
				t.Errorf("op %q with token old on %q = %d, %v; want %d", c.op, stored, n, err, want)
			}
		}
	}
}
