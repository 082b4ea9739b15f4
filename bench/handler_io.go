package main

import (
	"context"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	idemqkafka "github.com/idemq/idemq/adapters/kafka"
	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
)

// handlerIO is the work a row's handler does per message.
type handlerIO int

const (
	incrIO  handlerIO = iota // one Redis round trip: INCR of a counter per Kafka key
	sleepIO                  // ioLatency of waiting, on a timer
)

// ioLatency is sleepIO's wait: a timer stands for a call to a slower
// service, and costs no server's CPU.
const ioLatency = 2 * time.Millisecond

// label names the handler in its rows' names.
func (h handlerIO) label() string {
	if h == sleepIO {
		return "2ms"
	}
	return "incr"
}

// do is one message's work: the INCR goes to the round's server, under the
// round's prefix, through the client the idemq rows' store uses.
func (h handlerIO) do(ctx context.Context, rr rowRound, m kafkago.Message) error {
	if h == incrIO {
		return rr.server.client.Incr(ctx, rr.prefix+"count:"+string(m.Key)).Err()
	}
	t := time.NewTimer(ioLatency)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// rawIORun is rawGroupRun's loop on the keyed topic with h's work done for
// each message before the next of its partition is fetched: one message at
// a time per partition, as a plain kafka-go consumer is written.
func rawIORun(h handlerIO) runFunc {
	return func(ctx context.Context, env *services, rr rowRound) (timed, error) {
		return groupRun(ctx, env, rr, env.kafka.keyed, func(ctx context.Context, m kafkago.Message) error {
			return h.do(ctx, rr, m)
		})
	}
}

// idemqIORun consumes the keyed topic with an idemq consumer on the round's
// server with default settings but ordering: a handler that does h's work
// and then calls end(struct{}{}). Timed as idemqRun.
func idemqIORun(h handlerIO, ordering consumer.Ordering) runFunc {
	return func(ctx context.Context, env *services, rr rowRound) (timed, error) {
		k := env.kafka
		store, err := newStore(serverStoreKind, rr)
		if err != nil {
			return timed{}, err
		}
		defer store.Close()
		out := &outcomes{want: int64(k.keyed.messages), done: make(chan struct{})}
		c, err := idemqkafka.NewConsumer(idemqkafka.Config[struct{}]{
			Reader:   k.readerConfig(k.keyed.name, k.group(rr.row, rr.round)),
			Store:    store,
			KeyFunc:  idemqkafka.HeaderKey(keyHeader),
			Ordering: ordering,
			Handle: func(ctx context.Context, m kafkago.Message, end dedupe.End[struct{}]) error {
				if err := h.do(ctx, rr, m); err != nil {
					return err
				}
				end(struct{}{})
				out.add()
				return nil
			},
			OnDuplicate: func(context.Context, kafkago.Message, struct{}) error { out.add(); return nil },
		})
		if err != nil {
			return timed{}, err
		}
		return runConsumer(ctx, c, out, k.keyed.messages)
	}
}
