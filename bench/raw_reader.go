package main

import (
	"context"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// readerRun consumes the fresh topic with a kafka-go Reader with GroupID,
// FetchMessage in one loop, and CommitMessages of every 1,000th message of
// a partition. The commits are sent by a goroutine of their own (the
// Reader's CommitInterval 0 makes CommitMessages synchronous), all of them
// acknowledged before the round ends. Timed from NewReader (the join) to the
// last message, and to the first.
func readerRun(ctx context.Context, env *services, rr rowRound) (timed, error) {
	k := env.kafka
	want := k.fresh.messages
	start := time.Now()
	r := kafkago.NewReader(k.readerConfig(k.fresh.name, k.group(rr.row, rr.round)))
	defer r.Close()
	commits := make(chan kafkago.Message, want/commitEvery+1)
	committed := make(chan error, 1)
	go func() { committed <- commitAll(ctx, r, commits) }()
	perPartition := map[int]int{}
	var elapsed, first time.Duration
	var err error
	for n := 0; n < want; n++ {
		var m kafkago.Message
		if m, err = r.FetchMessage(ctx); err != nil {
			err = fmt.Errorf("%d of %d messages: %w", n, want, err)
			break
		}
		if n == 0 {
			first = time.Since(start)
		}
		if perPartition[m.Partition]++; perPartition[m.Partition]%commitEvery == 0 {
			commits <- m
		}
	}
	elapsed = time.Since(start)
	close(commits)
	if cerr := <-committed; err == nil {
		err = cerr
	}
	return timed{elapsed, want, first}, err
}

// commitAll commits each message it receives, and returns the first error.
func commitAll(ctx context.Context, r *kafkago.Reader, commits <-chan kafkago.Message) error {
	var first error
	for m := range commits {
		if err := r.CommitMessages(ctx, m); err != nil && first == nil {
			first = fmt.Errorf("commit: %w", err)
		}
	}
	return first
}
