package idemqhttp

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/idemq/idemq/dedupe"
)

// Errors of a request's Idempotency-Key header, matched with errors.Is;
// their text is the detail of the 400 the client gets.
var (
	// ErrNoKey: the request has no key header (400 unless
	// Config.MissingKey is consumer.KeyProcess).
	ErrNoKey = errors.New("idemqhttp: the request has no idempotency key")
	// ErrInvalidKey: the header is there but is not a key: empty, longer
	// than MaxKeyLen, sent more than once, or neither a structured-field
	// string nor a bare token of visible ASCII.
	ErrInvalidKey = errors.New("idemqhttp: malformed idempotency key")
)

// parseKey returns the key of the header's values: one field line holding
// an sf-string ("abc", RFC 9651 section 3.3.3) or a bare token of visible
// ASCII without quotes and backslashes (abc, as Stripe's clients send it).
func parseKey(values []string) (string, error) {
	switch len(values) {
	case 0:
		return "", ErrNoKey
	case 1:
	default:
		return "", fmt.Errorf("%w: the header appears %d times", ErrInvalidKey, len(values))
	}
	v := strings.Trim(values[0], " \t")
	var key string
	var err error
	if strings.HasPrefix(v, `"`) {
		key, err = parseSFString(v)
	} else {
		key, err = parseBare(v)
	}
	switch {
	case err != nil:
		return "", err
	case key == "":
		return "", fmt.Errorf("%w: empty", ErrInvalidKey)
	case len(key) > MaxKeyLen:
		return "", fmt.Errorf("%w: %d bytes, the limit is %d", ErrInvalidKey, len(key), MaxKeyLen)
	}
	return key, nil
}

// parseSFString parses v, which starts with a quote, as a structured-field
// string: printable ASCII, \" and \\ escaped, nothing after the closing
// quote (no parameters).
func parseSFString(v string) (string, error) {
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && i+1 < len(v) && (v[i+1] == '"' || v[i+1] == '\\'):
			b.WriteByte(v[i+1])
			i++
		case c == '\\':
			return "", fmt.Errorf("%w: a backslash escapes only a quote or a backslash", ErrInvalidKey)
		case c == '"' && i == len(v)-1:
			return b.String(), nil
		case c == '"':
			return "", fmt.Errorf("%w: characters after the closing quote", ErrInvalidKey)
		case c < 0x20 || c > 0x7e:
			return "", fmt.Errorf("%w: byte 0x%02x in a string", ErrInvalidKey, c)
		default:
			b.WriteByte(c)
		}
	}
	return "", fmt.Errorf("%w: no closing quote", ErrInvalidKey)
}

// parseBare accepts v as a key of visible ASCII without quotes and
// backslashes.
func parseBare(v string) (string, error) {
	for i := range len(v) {
		if c := v[i]; c <= 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return "", fmt.Errorf("%w: byte 0x%02x (quote the key as a structured-field string)", ErrInvalidKey, c)
		}
	}
	return v, nil
}

// storeKey returns the key in the store: the scope and the client's key,
// "http:<len(scope)>:<scope>:<key>", or an error if that is longer than
// the store takes (a scope of over 700 bytes or so).
func storeKey(scope, key string) (string, error) {
	skey := "http:" + strconv.Itoa(len(scope)) + ":" + scope + ":" + key
	if len(skey) > dedupe.MaxKeyLen {
		return "", fmt.Errorf("idemqhttp: the scope (%d bytes) and the key make %d bytes, over dedupe.MaxKeyLen", len(scope), len(skey))
	}
	return skey, nil
}

// scope returns the request's scope: ScopeFunc's, or "".
func (m *Middleware) scope(r *http.Request) string {
	if m.cfg.ScopeFunc == nil {
		return ""
	}
	return m.cfg.ScopeFunc(r)
}
