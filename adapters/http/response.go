package idemqhttp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// ReplayedHeader is set to "true" on every replayed response (as Stripe
// does), so that a client can tell a replay from the first answer.
const ReplayedHeader = "Idempotent-Replayed"

// response is a handler's answer: status, headers and body.
type response struct {
	status int
	header http.Header
	body   []byte
}

// stored returns what is kept of r: its status, its header fields named
// in names (canonical), and its body.
func (r response) stored(names []string) response {
	s := response{status: r.status, header: http.Header{}, body: r.body}
	for _, name := range names {
		if v := r.header[name]; len(v) > 0 {
			s.header[name] = v
		}
	}
	return s
}

// write sends r to w: r's header fields (and extra, name and value pairs)
// are set on w's, with the Content-Length of r's body.
func (r response) write(w http.ResponseWriter, extra ...string) {
	h := w.Header()
	for k, v := range r.header {
		h[k] = v
	}
	for i := 0; i+1 < len(extra); i += 2 {
		h.Set(extra[i], extra[i+1])
	}
	if bodyAllowed(r.status) {
		h.Set("Content-Length", strconv.Itoa(len(r.body)))
	}
	w.WriteHeader(r.status)
	if bodyAllowed(r.status) && len(r.body) > 0 {
		_, _ = w.Write(r.body) // a client that went away: nothing to do
	}
}

// responseCodec stores a response compactly: a version byte, the status,
// the number of header values, each header name and value, and the body,
// every length a uvarint. It is the dedupe.Codec of the middleware's runs.
type responseCodec struct{}

const codecVersion = 1

var errCodec = errors.New("idemqhttp: not a stored response")

func (responseCodec) Encode(v any) ([]byte, error) {
	r, ok := v.(response)
	if !ok {
		return nil, fmt.Errorf("%w: encoding a %T", errCodec, v)
	}
	size := 8 + len(r.body)
	for k, vs := range r.header {
		for _, v := range vs {
			size += len(k) + len(v) + 4
		}
	}
	b := make([]byte, 0, size)
	b = append(b, codecVersion)
	b = binary.AppendUvarint(b, uint64(r.status))
	n := 0
	for _, vs := range r.header {
		n += len(vs)
	}
	b = binary.AppendUvarint(b, uint64(n))
	for k, vs := range r.header {
		for _, v := range vs {
			b = appendString(b, k)
			b = appendString(b, v)
		}
	}
	return append(b, r.body...), nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func (responseCodec) Decode(data []byte, v any) error {
	r, ok := v.(*response)
	if !ok {
		return fmt.Errorf("%w: decoding into a %T", errCodec, v)
	}
	d := decoder{data: data}
	if d.byte() != codecVersion {
		return fmt.Errorf("%w: unknown version", errCodec)
	}
	status, n := d.uvarint(), d.uvarint()
	if d.err != nil || status < 200 || status > 599 || n > uint64(len(d.data)) {
		return fmt.Errorf("%w: bad status or header count", errCodec)
	}
	header := make(http.Header, n)
	for range n {
		k, v := d.string(), d.string()
		if d.err == nil && !isToken(k) {
			d.err = fmt.Errorf("%w: header name %q", errCodec, k)
		}
		header[k] = append(header[k], v)
	}
	if d.err != nil {
		return d.err
	}
	*r = response{status: int(status), header: header, body: append([]byte(nil), d.data...)}
	return nil
}

// decoder reads a stored response; the first error sticks.
type decoder struct {
	data []byte
	err  error
}

func (d *decoder) byte() byte {
	if len(d.data) == 0 {
		d.err = fmt.Errorf("%w: truncated", errCodec)
		return 0
	}
	c := d.data[0]
	d.data = d.data[1:]
	return c
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.data)
	if n <= 0 {
		d.err = fmt.Errorf("%w: truncated", errCodec)
		return 0
	}
	d.data = d.data[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil || n > uint64(len(d.data)) {
		d.err = fmt.Errorf("%w: truncated", errCodec)
		return ""
	}
	s := string(d.data[:n])
	d.data = d.data[n:]
	return s
}
