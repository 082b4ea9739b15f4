package idemqwatermill_test

import (
	"errors"
	"fmt"
	"github.com/idemq/idemq/consumer"
	"sync"
	"sync/atomic"
	"testing"

	wmessage "github.com/ThreeDotsLabs/watermill/message"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/internal/testenv"
)

func decorate(t *testing.T, d *idemqwatermill.Deduplicator, pub wmessage.Publisher) wmessage.Publisher {
	t.Helper()
	var decorator wmessage.PublisherDecorator = d.DecoratePublisher
	p, err := decorator(pub)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func keysOf(msgs []*wmessage.Message) []string {
	var keys []string
	for _, m := range msgs {
		keys = append(keys, m.Metadata.Get(keyField))
	}
	return keys
}

// TestDecoratePublisher: the first publish of a key wins, repeats are
// dropped and reported, across two publishers with two stores (two
// processes' worth) on the same Redis.
func TestDecoratePublisher(t *testing.T) {
	t.Parallel()

	t.Run("TwoPublishersTwoStores", func(t *testing.T) {
		t.Parallel()
		const keys = 200
		srv := testenv.Redis(t)
		var reported atomic.Int32
		var flagged atomic.Int32
		cfg := idemqwatermill.Config{OnDuplicate: func(m *wmessage.Message, stored []*wmessage.Message) error {
			reported.Add(1)
			if m.Metadata.Get(idemqwatermill.DuplicateMetadataKey) == "true" && len(stored) == 1 {
				flagged.Add(1)
			}
			return nil
		}}
		sinks := []*recordingPublisher{{}, {}}
		var wg sync.WaitGroup
		for _, sink := range sinks {
			pub := decorate(t, newDedup(t, redisStore(t, srv), cfg), sink)
			for w := range 4 { // 4 goroutines per publisher
				wg.Go(func() {
					for i := w; i < keys; i += 4 {
						k := fmt.Sprintf("k%d", i)
						if err := pub.Publish("events", newMsg(k, "event "+k)); err != nil {
							t.Errorf("publish %s: %v", k, err)
						}
					}
				})
			}
		}
		wg.Wait()
		seen := map[string]int{}
		for _, sink := range sinks {
			for _, k := range keysOf(sink.messages()) {
				seen[k]++
			}
		}
		for i := range keys {
			if n := seen[fmt.Sprintf("k%d", i)]; n != 1 {
				t.Errorf("key k%d published %d times, want 1", i, n)
			}
		}
		if reported.Load() != keys || flagged.Load() != keys {
			t.Errorf("repeats reported %d (flagged %d), want %d", reported.Load(), flagged.Load(), keys)
		}
	})

	t.Run("FailedPublishIsNotCommitted", func(t *testing.T) {
		t.Parallel()
		sink := &recordingPublisher{}
		pub := decorate(t, newDedup(t, memoryStore(t), idemqwatermill.Config{}), sink)
		sink.failNext(1)
		if err := pub.Publish("events", newMsg("k1", "a")); err != errBoom {
			t.Errorf("failing publish error = %v, want the publisher's own error", err)
		}
		for range 2 {
			if err := pub.Publish("events", newMsg("k1", "a")); err != nil {
				t.Fatal(err)
			}
		}
		if got := keysOf(sink.messages()); len(got) != 1 {
			t.Errorf("published %v, want k1 once (the retry)", got)
		}
	})

	t.Run("OneCallPublishesInOrderAndDropsRepeats", func(t *testing.T) {
		t.Parallel()
		sink := &recordingPublisher{}
		pub := decorate(t, newDedup(t, memoryStore(t), idemqwatermill.Config{}), sink)
		err := pub.Publish("events", newMsg("a", "1"), newMsg("b", "2"), newMsg("a", "3"), newMsg("c", "4"))
		if got := fmt.Sprint(keysOf(sink.messages())); err != nil || got != "[a b c]" {
			t.Errorf("published %s, %v; want [a b c], nil", got, err)
		}
	})

	t.Run("TopicsAreSeparate", func(t *testing.T) {
		t.Parallel()
		sink := &recordingPublisher{}
		pub := decorate(t, newDedup(t, memoryStore(t), idemqwatermill.Config{}), sink)
		for _, topic := range []string{"a", "b", "a"} {
			if err := pub.Publish(topic, newMsg("k1", "x")); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(sink.messages()); n != 2 {
			t.Errorf("published %d, want 2 (once per topic)", n)
		}
	})

	t.Run("MissingKeyIsRejected", func(t *testing.T) {
		t.Parallel()
		sink := &recordingPublisher{}
		pub := decorate(t, newDedup(t, memoryStore(t), idemqwatermill.Config{}), sink)
		err := pub.Publish("events", newMsg("", "no key"))
		var keyErr *idemqwatermill.KeyError
		if !errors.As(err, &keyErr) || len(sink.messages()) != 0 {
			t.Errorf("error = %v with %d published, want a *KeyError and none", err, len(sink.messages()))
		}
	})

	t.Run("KeyProcessPublishesUnguarded", func(t *testing.T) {
		t.Parallel()
		sink := &recordingPublisher{}
		pub := decorate(t, newDedup(t, memoryStore(t), idemqwatermill.Config{InvalidKey: consumer.KeyProcess}), sink)
		for range 2 {
			if err := pub.Publish("events", newMsg("", "no key")); err != nil {
				t.Fatal(err)
			}
		}
		if n := len(sink.messages()); n != 2 {
			t.Errorf("published %d, want 2", n)
		}
	})
}
