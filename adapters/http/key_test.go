package idemqhttp_test

import (
	"errors"
	"strings"
	"testing"

	idemqhttp "github.com/idemq/idemq/adapters/http"
)

func TestParseKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		values []string
		want   string
		err    error
	}{
		{nil, "", idemqhttp.ErrNoKey},
		{[]string{`"8e03978e-40d5-43e8-bc93-6894a57f9324"`}, "8e03978e-40d5-43e8-bc93-6894a57f9324", nil},
		{[]string{`8e03978e-40d5-43e8-bc93-6894a57f9324`}, "8e03978e-40d5-43e8-bc93-6894a57f9324", nil},
		{[]string{` "a b" `}, "a b", nil},
		{[]string{`"a\"b\\c"`}, `a"b\c`, nil},
		{[]string{"\t key \t"}, "key", nil},
		{[]string{`""`}, "", idemqhttp.ErrInvalidKey},
		{[]string{``}, "", idemqhttp.ErrInvalidKey},
		{[]string{`"abc`}, "", idemqhttp.ErrInvalidKey},
		{[]string{`"a\b"`}, "", idemqhttp.ErrInvalidKey},
		{[]string{`"a"b"`}, "", idemqhttp.ErrInvalidKey},
		{[]string{`"a";x=1`}, "", idemqhttp.ErrInvalidKey},
		{[]string{"\"a\x7f\""}, "", idemqhttp.ErrInvalidKey},
		{[]string{"\"a\tb\""}, "", idemqhttp.ErrInvalidKey},
		{[]string{`a b`}, "", idemqhttp.ErrInvalidKey},
		{[]string{`a\b`}, "", idemqhttp.ErrInvalidKey},
		{[]string{"k\xc3\xa9"}, "", idemqhttp.ErrInvalidKey},
		{[]string{"a", "b"}, "", idemqhttp.ErrInvalidKey},
		{[]string{strings.Repeat("k", idemqhttp.MaxKeyLen)}, strings.Repeat("k", idemqhttp.MaxKeyLen), nil},
		{[]string{strings.Repeat("k", idemqhttp.MaxKeyLen+1)}, "", idemqhttp.ErrInvalidKey},
		{[]string{`"` + strings.Repeat(`\"`, idemqhttp.MaxKeyLen) + `"`}, strings.Repeat(`"`, idemqhttp.MaxKeyLen), nil},
	} {
		got, err := idemqhttp.ParseKey(tc.values)
		if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("ParseKey(%q) = %q, %v; want %q, %v", tc.values, got, err, tc.want, tc.err)
		}
	}
}

// FuzzParseKey: no input panics; an accepted key is 1 to MaxKeyLen bytes
// of printable ASCII, and quoting it as an sf-string gives it back.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{`"abc"`, `abc`, `"a\"b"`, `"`, `\`, ``, `"a";b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		key, err := idemqhttp.ParseKey([]string{v})
		if err != nil {
			return
		}
		if key == "" || len(key) > idemqhttp.MaxKeyLen {
			t.Fatalf("ParseKey(%q) = %q: a key of %d bytes", v, key, len(key))
		}
		quoted := `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(key) + `"`
		if again, err := idemqhttp.ParseKey([]string{quoted}); again != key || err != nil {
			t.Fatalf("ParseKey(%q) = %q, %v; want %q back", quoted, again, err, key)
		}
	})
}
