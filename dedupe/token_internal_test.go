package dedupe

import (
	"strings"
	"testing"
)

// checkTokens checks that tokens are 16 characters of base64url (so no ':'
// and no fingerprintSep), valid for every store, and distinct.
func checkTokens(t *testing.T, tokens []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, tok := range tokens {
		if len(tok) != 16 || strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
			t.Fatalf("token %q: want 16 characters of [A-Za-z0-9_-]", tok)
		}
		if err := CheckToken(tok); err != nil {
			t.Fatalf("CheckToken(%q) = %v", tok, err)
		}
		if seen[tok] {
			t.Fatalf("token %q handed out twice", tok)
		}
		seen[tok] = true
	}
}

func TestRunTokens(t *testing.T) {
	t.Parallel()
	tokens := make([]string, 1000)
	for i := range tokens {
		tokens[i] = newToken()
	}
	checkTokens(t, tokens)
}

func TestBatchTokens(t *testing.T) {
	t.Parallel()
	a, b := newTokenSeq(), newTokenSeq()
	var tokens []string
	for range 5000 {
		tokens = append(tokens, a.next(), b.next())
	}
	checkTokens(t, tokens)
}
