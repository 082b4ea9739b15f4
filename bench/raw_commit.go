package main

import (
	"context"
	"errors"
	"fmt"

	kafkago "github.com/segmentio/kafka-go"
)

// committer sends the offsets of a generation's partitions from one
// goroutine, as kafka-go's Reader does with its commitLoop: each commit
// carries whatever offsets the partitions queued meanwhile. Calling
// Generation.CommitOffsets from every partition's goroutine costs more:
// kafka-go's Conn has the waiters of one connection take turns in a loop
// (lock, set the read deadline, peek at the next response, unlock) until
// their own response comes, and the partitions reach each 1,000th message
// nearly together.
type committer struct {
	gen     *kafkago.Generation
	topic   string
	next    chan partitionOffset
	flush   chan chan error
	stopped chan struct{} // closed when run returns
}

// partitionOffset is the next offset to read of a partition.
type partitionOffset struct {
	partition int
	offset    int64
}

func newCommitter(gen *kafkago.Generation, topic string, partitions int) *committer {
	return &committer{gen: gen, topic: topic, next: make(chan partitionOffset, 2*partitions),
		flush: make(chan chan error), stopped: make(chan struct{})}
}

// queue has the partition's offset committed soon; it waits only while the
// committer is behind by more than two offsets per partition.
func (cm *committer) queue(ctx context.Context, partition int, offset int64) {
	select {
	case cm.next <- partitionOffset{partition, offset}:
	case <-ctx.Done():
	}
}

// errGenerationEnded is wait's error when the generation ended first.
var errGenerationEnded = errors.New("commit: the generation ended before the last commits")

// wait commits what is queued and returns the error of that commit.
func (cm *committer) wait(ctx context.Context) error {
	done := make(chan error, 1)
	select {
	case cm.flush <- done:
	case <-cm.stopped:
		return errGenerationEnded
	case <-ctx.Done():
		return context.Cause(ctx)
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// run commits until the generation ends (ctx), reporting failures to fail.
func (cm *committer) run(ctx context.Context, fail func(error)) {
	defer close(cm.stopped)
	pending := map[int]int64{}
	for {
		select {
		case o := <-cm.next:
			pending[o.partition] = o.offset
			if err := cm.commit(pending); err != nil {
				fail(err)
			}
		case done := <-cm.flush:
			done <- cm.commit(pending)
		case <-ctx.Done():
			return
		}
	}
}

// commit sends the pending offsets, and whatever else is queued, in one
// OffsetCommit.
func (cm *committer) commit(pending map[int]int64) error {
	for more := true; more; {
		select {
		case o := <-cm.next:
			pending[o.partition] = o.offset
		default:
			more = false
		}
	}
	if len(pending) == 0 {
		return nil
	}
	err := cm.gen.CommitOffsets(map[string]map[int]int64{cm.topic: pending})
	clear(pending)
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}
