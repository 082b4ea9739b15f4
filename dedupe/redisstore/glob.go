package redisstore

import (
	"errors"
	"fmt"

	"github.com/idemq/idemq/dedupe"
)

// checkGlob rejects a malformed glob: an unclosed '[' or a trailing '\'.
func checkGlob(pattern string) error {
	for i := 0; i < len(pattern); i++ {
		switch pattern[i] {
		case '\\':
			if i++; i == len(pattern) {
				return fmt.Errorf("%w: glob %q ends in '\\'", dedupe.ErrInvalidOption, pattern)
			}
		case '[':
			n, err := classLen(pattern[i:])
			if err != nil {
				return fmt.Errorf("%w: glob %q: %v", dedupe.ErrInvalidOption, pattern, err)
			}
			i += n - 1
		}
	}
	return nil
}

// globMatch reports whether s matches pattern, a well-formed glob in
// Redis's syntax (that of KEYS and SCAN MATCH), byte by byte: '*' any bytes,
// '?' one byte, '[abc]', '[a-z]' and '[^abc]' one byte of a class, '\' the
// next byte literally. A '*' backtracks to its last match only, so a call
// costs O(len(pattern) * len(s)) at most.
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, from := -1, 0 // the last '*' seen, and where in s it matches up to
	for i < len(s) {
		if p < len(pattern) {
			if pattern[p] == '*' {
				star, from, p = p, i, p+1
				continue
			}
			if n, ok := matchOne(pattern[p:], s[i]); ok {
				p, i = p+n, i+1
				continue
			}
		}
		if star < 0 {
			return false
		}
		from++
		p, i = star+1, from
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// matchOne matches c against the element that starts pattern (not '*'),
// and returns the element's length.
func matchOne(pattern string, c byte) (n int, ok bool) {
	switch pattern[0] {
	case '?':
		return 1, true
	case '\\':
		return 2, pattern[1] == c
	case '[':
		n, _ := classLen(pattern)
		return n, inClass(pattern[1:n-1], c)
	}
	return 1, pattern[0] == c
}

// classLen is the length of the class that starts pattern ('[' ... ']').
func classLen(pattern string) (int, error) {
	i := 1
	if i < len(pattern) && pattern[i] == '^' {
		i++
	}
	for ; i < len(pattern); i++ {
		switch pattern[i] {
		case '\\':
			i++
		case ']':
			return i + 1, nil
		}
	}
	return 0, errors.New("unclosed '['")
}

// inClass reports whether c is in the class body (between '[' and ']').
func inClass(body string, c byte) bool {
	negate := len(body) > 0 && body[0] == '^'
	if negate {
		body = body[1:]
	}
	found := false
	for i := 0; i < len(body) && !found; i++ {
		lo := body[i]
		if lo == '\\' && i+1 < len(body) {
			i++
			lo = body[i]
		}
		hi := lo
		if i+2 < len(body) && body[i+1] == '-' {
			hi, i = body[i+2], i+2
			if hi == '\\' && i+1 < len(body) {
				i++
				hi = body[i]
			}
		}
		found = min(lo, hi) <= c && c <= max(lo, hi)
	}
	return found != negate
}
