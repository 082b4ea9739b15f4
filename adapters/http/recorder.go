package idemqhttp

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
)

// ErrResponseTooLarge is what a handler's Write returns, on a
// transactional store (NewTx), once the response body outgrew
// Config.MaxResponseBytes: the response cannot be stored, so the
// transaction will roll back and the client gets 500.
var ErrResponseTooLarge = errors.New("idemqhttp: response larger than Config.MaxResponseBytes")

// recorder is the http.ResponseWriter a guarded handler writes to: it
// buffers the status, the headers and up to max bytes of body, so that the
// response goes out only once the guard has committed it. A response that
// outgrows max streams to live instead (the buffered part first), or, with
// no live writer (a transactional store), fails its writes.
//
// It implements neither http.Flusher nor Unwrap on purpose: a flush would
// send a response the guard has not committed.
type recorder struct {
	header    http.Header
	status    int // 0 until WriteHeader or the first Write
	body      bytes.Buffer
	max       int
	live      http.ResponseWriter // where an oversized response streams; nil: refuse it
	oversized bool                // the body outgrew max
}

// newRecorder returns a recorder for the response w would send, starting
// with w's headers (an outer middleware's); stream lets a response larger
// than max go out to w.
func newRecorder(w http.ResponseWriter, max int, stream bool) *recorder {
	r := &recorder{header: http.Header{}, max: max}
	if h := w.Header(); len(h) > 0 {
		r.header = h.Clone()
	}
	if stream {
		r.live = w
	}
	return r
}

func (r *recorder) Header() http.Header { return r.header }

// WriteHeader records the status. As net/http does, it panics on a code
// out of range, ignores a second call, and lets 1xx codes pass (they are
// not stored or sent: the final status is).
func (r *recorder) WriteHeader(code int) {
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	if r.status != 0 || code < 200 {
		return
	}
	r.status = code
}

func (r *recorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.WriteHeader(http.StatusOK)
	}
	switch {
	case !bodyAllowed(r.status):
		return 0, http.ErrBodyNotAllowed
	case r.streaming():
		return r.live.Write(p)
	case r.oversized:
		return 0, ErrResponseTooLarge
	case r.body.Len()+len(p) <= r.max:
		return r.body.Write(p)
	}
	r.oversized = true
	if r.live == nil {
		return 0, ErrResponseTooLarge
	}
	copyHeader(r.live.Header(), r.header)
	r.live.WriteHeader(r.status)
	if _, err := r.live.Write(r.body.Bytes()); err != nil {
		return 0, err
	}
	return r.live.Write(p)
}

// streaming reports whether the response outgrew the buffer and went out.
func (r *recorder) streaming() bool { return r.oversized && r.live != nil }

// response returns what the handler answered. A handler that wrote
// nothing answered 200 with no body, as net/http has it.
func (r *recorder) response() response {
	status := r.status
	if status == 0 {
		status = http.StatusOK
	}
	return response{status: status, header: r.header, body: r.body.Bytes()}
}

// bodyAllowed reports whether a response with status may have a body.
func bodyAllowed(status int) bool {
	return status != http.StatusNoContent && status != http.StatusNotModified
}

// copyHeader makes dst hold exactly src's fields.
func copyHeader(dst, src http.Header) {
	clear(dst)
	for k, v := range src {
		dst[k] = v
	}
}
