package idemqhttp_test

import (
	"bytes"
	"reflect"
	"testing"

	idemqhttp "github.com/idemq/idemq/adapters/http"
)

func TestResponseCodec(t *testing.T) {
	t.Parallel()
	header := map[string][]string{"Location": {"/orders/1"}, "Link": {"<a>", "<b>"}}
	body := []byte{0, 1, 2, 0xff}
	status, gotHeader, gotBody, err := idemqhttp.RoundTrip(201, header, body)
	if err != nil || status != 201 || !reflect.DeepEqual(gotHeader, header) || !bytes.Equal(gotBody, body) {
		t.Errorf("round trip = %d %v %v, %v; want 201 %v %v", status, gotHeader, gotBody, err, header, body)
	}
	for _, bad := range [][]byte{nil, {}, {2, 201, 1, 0}, {1}, {1, 0xe8, 0x07, 0}, {1, 0x64, 0}, {1, 201, 1, 5, 'a'}, {1, 0xc9, 0x01, 1, 1, ' ', 0}} {
		if _, _, _, err := idemqhttp.DecodeResponse(bad); err == nil {
			t.Errorf("DecodeResponse(%v) = nil error, want one", bad)
		}
	}
}

// FuzzDecodeResponse: no stored bytes panic the decoder, and what it
// accepts encodes back to the same bytes' meaning.
func FuzzDecodeResponse(f *testing.F) {
	f.Add([]byte{1, 0xc9, 0x01, 1, 8, 'L', 'o', 'c', 'a', 't', 'i', 'o', 'n', 1, '/', 'x'})
	f.Add([]byte{1, 0xc8, 0x01, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		status, header, body, err := idemqhttp.DecodeResponse(data)
		if err != nil {
			return
		}
		if status < 200 || status > 599 {
			t.Fatalf("decoded status %d", status)
		}
		s2, h2, b2, err := idemqhttp.RoundTrip(status, header, body)
		if err != nil || s2 != status || !reflect.DeepEqual(h2, header) || !bytes.Equal(b2, body) {
			t.Fatalf("round trip of a decoded response changed it: %d %v %q, %v", s2, h2, b2, err)
		}
	})
}
