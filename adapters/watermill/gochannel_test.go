package idemqwatermill_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	wm "github.com/ThreeDotsLabs/watermill"
	wmessage "github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
	"github.com/idemq/idemq/internal/testenv"
)

// newGoChannel returns a GoChannel whose Publish returns only once every
// subscriber acked: when all publishes have returned, every message was
// acked (a nacked one is re-sent at once until it is).
func newGoChannel(t testing.TB) *gochannel.GoChannel {
	ps := gochannel.NewGoChannel(gochannel.Config{BlockPublishUntilSubscriberAck: true}, wm.NopLogger{})
	t.Cleanup(func() { _ = ps.Close() })
	return ps
}

// publishAll publishes msgs to topic and returns when all were acked.
func publishAll(t testing.TB, pub wmessage.Publisher, topic string, msgs []*wmessage.Message) {
	t.Helper()
	publishEach(t, pub, msgs, func(int) string { return topic })
}

// publishEach publishes msgs[i] to topic(i) from up to 32 goroutines at once
// and returns when all were acked.
func publishEach(t testing.TB, pub wmessage.Publisher, msgs []*wmessage.Message, topic func(i int) string) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		sem := make(chan struct{}, 32)
		var wg sync.WaitGroup
		for i, m := range msgs {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				if err := pub.Publish(topic(i), m); err != nil {
					t.Errorf("publish: %v", err)
				}
			})
		}
		wg.Wait()
	}()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("messages not acked within 60s")
	}
}

// collector keeps every message published to a topic, acking each after
// recording it.
type collector struct {
	mu   sync.Mutex
	msgs []*wmessage.Message
	done chan struct{}
}

func collect(t testing.TB, sub wmessage.Subscriber, topic string) *collector {
	t.Helper()
	ch, err := sub.Subscribe(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}
	c := &collector{done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for m := range ch {
			c.mu.Lock()
			c.msgs = append(c.msgs, m)
			c.mu.Unlock()
			m.Ack()
		}
	}()
	t.Cleanup(func() { <-c.done })
	return c
}

// byKey groups the collected messages by their "key" metadata (for
// runCounter's outputs: handler/key).
func (c *collector) byKey() map[string][]*wmessage.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string][]*wmessage.Message{}
	for _, msg := range c.msgs {
		m[msg.Metadata.Get("key")] = append(m[msg.Metadata.Get("key")], msg)
	}
	return m
}

// runCounter counts handler runs per handler and key.
type runCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (c *runCounter) handler(name string) wmessage.HandlerFunc {
	return func(msg *wmessage.Message) ([]*wmessage.Message, error) {
		k := msg.Metadata.Get(keyField)
		c.mu.Lock()
		if c.n == nil {
			c.n = map[string]int{}
		}
		c.n[name+"/"+k]++
		c.mu.Unlock()
		out := output(wm.NewUUID(), name+"/"+k, fmt.Sprintf("%s ran %s at %d", name, k, time.Now().UnixNano()))
		return []*wmessage.Message{out}, nil
	}
}

func (c *runCounter) consumer(name string) wmessage.NoPublishHandlerFunc {
	h := c.handler(name)
	return func(msg *wmessage.Message) error { _, err := h(msg); return err }
}

func (c *runCounter) check(t *testing.T, names []string, keys int) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, name := range names {
		for i := range keys {
			if got := c.n[fmt.Sprintf("%s/k%d", name, i)]; got != 1 {
				t.Errorf("handler %s ran key k%d %d times, want 1", name, i, got)
			}
		}
	}
}

// twice returns two deliveries (distinct messages, distinct UUIDs) of each of
// n keys.
func twice(n int) []*wmessage.Message {
	var msgs []*wmessage.Message
	for i := range n {
		k := fmt.Sprintf("k%d", i)
		msgs = append(msgs, newMsg(k, "in "+k), newMsg(k, "in "+k))
	}
	return msgs
}

// checkOutputs checks that there are outputs for keys keys, perKey
// identical ones each.
func checkOutputs(t *testing.T, c *collector, keys, perKey int) {
	t.Helper()
	got := c.byKey()
	if len(got) != keys {
		t.Errorf("outputs for %d keys, want %d", len(got), keys)
	}
	for k, outs := range got {
		if len(outs) != perKey {
			t.Errorf("key %s: %d outputs, want %d", k, len(outs), perKey)
		}
		for _, o := range outs[1:] {
			if !o.Equals(outs[0]) {
				t.Errorf("key %s: outputs differ: %s %q vs %s %q", k, o.UUID, o.Payload, outs[0].UUID, outs[0].Payload)
			}
		}
	}
}

// TestGoChannelRouter runs the middleware in a real router on GoChannel with
// a real Redis store, in each way a router can be wired. Every key is
// delivered twice at once.
func TestGoChannelRouter(t *testing.T) {
	t.Parallel()
	const keys = 20
	redisSrv := testenv.Redis(t)
	type wiring func(r *wmessage.Router, ps *gochannel.GoChannel, d *idemqwatermill.Deduplicator, c *runCounter)
	tests := []struct {
		name     string
		wire     wiring
		handlers []string
		outputs  bool
	}{
		{"AddHandlerRouterMiddleware", func(r *wmessage.Router, ps *gochannel.GoChannel, d *idemqwatermill.Deduplicator, c *runCounter) {
			r.AddMiddleware(d.Middleware)
			r.AddHandler("h", "in", ps, "out", ps, c.handler("h"))
		}, []string{"h"}, true},
		{"AddHandlerHandlerMiddleware", func(r *wmessage.Router, ps *gochannel.GoChannel, d *idemqwatermill.Deduplicator, c *runCounter) {
			r.AddHandler("h", "in", ps, "out", ps, c.handler("h")).AddMiddleware(d.Middleware)
		}, []string{"h"}, true},
		{"AddConsumerHandlerRouterMiddleware", func(r *wmessage.Router, ps *gochannel.GoChannel, d *idemqwatermill.Deduplicator, c *runCounter) {
			r.AddMiddleware(d.Middleware)
			r.AddConsumerHandler("h", "in", ps, c.consumer("h"))
		}, []string{"h"}, false},
		{"AddConsumerHandlerNoPublishHandler", func(r *wmessage.Router, ps *gochannel.GoChannel, d *idemqwatermill.Deduplicator, c *runCounter) {
			r.AddConsumerHandler("h", "in", ps, d.NoPublishHandler(c.consumer("h")))
		}, []string{"h"}, false},
		{"TwoHandlersOnOneTopicEachRunOnce", func(r *wmessage.Router, ps *gochannel.GoChannel, d *idemqwatermill.Deduplicator, c *runCounter) {
			r.AddMiddleware(d.Middleware)
			r.AddHandler("a", "in", ps, "out", ps, c.handler("a"))
			r.AddHandler("b", "in", ps, "out", ps, c.handler("b"))
		}, []string{"a", "b"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := within(t, redisSrv)
			ps := newGoChannel(t)
			out := collect(t, ps, "out")
			d := newDedup(t, redisStore(t, srv), idemqwatermill.Config{})
			var c runCounter
			r := newRouter(t)
			tt.wire(r, ps, d, &c)
			startRouter(t, r)

			publishAll(t, ps, "in", twice(keys))
			c.check(t, tt.handlers, keys)
			if !tt.outputs {
				if n := len(out.byKey()); n != 0 {
					t.Errorf("outputs for %d keys, want none", n)
				}
				return
			}
			// Per handler and key: the original output and one re-emitted copy.
			checkOutputs(t, out, keys*len(tt.handlers), 2)
		})
	}
}
