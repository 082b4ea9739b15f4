package idemqhttp

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Errors of reading a guarded request's body, matched with errors.Is.
var (
	// ErrBodyTooLarge: the body is longer than Config.MaxBodyBytes (413).
	ErrBodyTooLarge = errors.New("idemqhttp: request body larger than the limit")
	// ErrBodyUnreadable: reading the body failed (400): the client went
	// away, or sent a broken chunked body.
	ErrBodyUnreadable = errors.New("idemqhttp: request body cannot be read")
)

// readBody reads r's body whole, up to limit bytes, and puts the bytes
// back as r.Body for the handler.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if r.ContentLength > limit {
		return nil, fmt.Errorf("%w: Content-Length %d, the limit is %d", ErrBodyTooLarge, r.ContentLength, limit)
	}
	var buf bytes.Buffer
	if r.ContentLength > 0 {
		buf.Grow(int(r.ContentLength))
	}
	n, err := buf.ReadFrom(io.LimitReader(r.Body, limit+1))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, fmt.Errorf("%w: %w", ErrBodyTooLarge, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrBodyUnreadable, err)
	case n > limit:
		return nil, fmt.Errorf("%w: over %d bytes", ErrBodyTooLarge, limit)
	}
	r.Body = io.NopCloser(bytes.NewReader(buf.Bytes()))
	r.ContentLength = n
	return buf.Bytes(), nil
}

// RequestFingerprint is the default Config.FingerprintFunc: a SHA-256 of
// the method, the request target (path and query, as sent) and the whole
// body. Headers are not part of it: a retry may well carry another
// Date, trace or authorization header.
func RequestFingerprint(r *http.Request, body []byte) []byte {
	h := sha256.New()
	io.WriteString(h, r.Method)
	h.Write([]byte{0})
	if r.URL != nil {
		io.WriteString(h, r.URL.RequestURI())
	}
	h.Write([]byte{0})
	h.Write(body)
	return h.Sum(nil)
}
