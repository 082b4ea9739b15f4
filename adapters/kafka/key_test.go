package idemqkafka_test

import (
	"errors"
	"testing"

	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
)

func TestMessageKey(t *testing.T) {
	t.Parallel()
	if got, err := idemqkafka.MessageKey()(kafkago.Message{Key: []byte("order-1")}); got != "order-1" || err != nil {
		t.Errorf("MessageKey = %q, %v; want \"order-1\", nil", got, err)
	}
	if _, err := idemqkafka.MessageKey()(kafkago.Message{}); !errors.Is(err, idemqkafka.ErrNoKey) {
		t.Errorf("MessageKey of a message without key = %v, want ErrNoKey", err)
	}
}

func TestHeaderKey(t *testing.T) {
	t.Parallel()
	h := func(kv ...string) []kafkago.Header {
		var hs []kafkago.Header
		for i := 0; i < len(kv); i += 2 {
			hs = append(hs, kafkago.Header{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return hs
	}
	for _, tc := range []struct {
		name    string
		headers []kafkago.Header
		want    string
		wantErr error
	}{
		{"Present", h("Idempotency-Key", "k1"), "k1", nil},
		{"LastWins", h("Idempotency-Key", "k1", "Other", "x", "Idempotency-Key", "k2"), "k2", nil},
		{"Missing", h("Other", "x"), "", idemqkafka.ErrNoKey},
		{"CaseSensitive", h("idempotency-key", "k1"), "", idemqkafka.ErrNoKey},
		{"Empty", h("Idempotency-Key", ""), "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := idemqkafka.HeaderKey("Idempotency-Key")(kafkago.Message{Headers: tc.headers})
			if got != tc.want || !errors.Is(err, tc.wantErr) {
				t.Errorf("HeaderKey = %q, %v; want %q, %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}
