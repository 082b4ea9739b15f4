package idemqkafka

import (
	"errors"
	"testing"

	kafkago "github.com/segmentio/kafka-go"
)

// FuzzHeaderKey reads keys from arbitrary headers: never a panic; the key is
// the last header of that name, and a message without one is ErrNoKey.
func FuzzHeaderKey(f *testing.F) {
	f.Add("Idempotency-Key", "k1", "Idempotency-Key", "k2", "other")
	f.Add("", "", "x", "\xff", "")
	f.Fuzz(func(t *testing.T, name1, value1, name2, value2, want string) {
		m := kafkago.Message{Headers: []kafkago.Header{{Key: name1, Value: []byte(value1)}, {Key: name2, Value: []byte(value2)}}}
		key, err := HeaderKey(want)(m)
		switch {
		case name2 == want:
			if err != nil || key != value2 {
				t.Fatalf("HeaderKey(%q) = %q, %v; want the last header's %q", want, key, err, value2)
			}
		case name1 == want:
			if err != nil || key != value1 {
				t.Fatalf("HeaderKey(%q) = %q, %v; want %q", want, key, err, value1)
			}
		case !errors.Is(err, ErrNoKey):
			t.Fatalf("HeaderKey(%q) without that header = %q, %v; want ErrNoKey", want, key, err)
		}
	})
}

// FuzzDeadLetterMessage builds dead letters of arbitrary messages and
// errors: the original key, value and headers are kept as they are, the
// error header is the error or a cut of it, and a dead letter that fits
// the limit without its error header fits it with the header too.
func FuzzDeadLetterMessage(f *testing.F) {
	f.Add([]byte("k"), []byte("value"), "Idempotency-Key", []byte("id"), "boom", int64(1<<20))
	f.Add([]byte{}, []byte{}, "", []byte{}, "", int64(64))
	f.Fuzz(func(t *testing.T, key, value []byte, hname string, hvalue []byte, cause string, limit int64) {
		if limit < 0 || limit > 1<<30 {
			return
		}
		m := kafkago.Message{Topic: "t", Key: key, Value: value, Headers: []kafkago.Header{{Key: hname, Value: hvalue}}}
		dl := deadLetterMessage(m, "id", errors.New(cause), limit)
		if string(dl.Key) != string(key) || string(dl.Value) != string(value) || dl.Headers[0].Key != hname || string(dl.Headers[0].Value) != string(hvalue) {
			t.Fatal("the dead letter changed the original message")
		}
		h := string(dl.Headers[len(dl.Headers)-1].Value)
		if len(h) > MaxErrorHeader || h != cause && !(len(h) >= 3 && h[len(h)-3:] == "..." && cause[:len(h)-3] == h[:len(h)-3]) && h != "" {
			t.Fatalf("error header %q is neither the error nor a cut of it", h)
		}
		bare := dl
		bare.Headers = append([]kafkago.Header{}, dl.Headers...)
		bare.Headers[len(bare.Headers)-1].Value = nil
		if sizeOf(bare) <= limit && sizeOf(dl) > limit {
			t.Fatalf("dead letter of %d bytes over the limit %d, though it fits without the error header", sizeOf(dl), limit)
		}
	})
}
