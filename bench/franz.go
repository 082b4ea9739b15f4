package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// franzRun consumes the fresh topic with a franz-go group consumer:
// ConsumeTopics and ConsumerGroup, a PollFetches loop, autocommit disabled,
// CommitUncommittedOffsets (synchronous) whenever 1,000 records have come
// since the last commit, and once more at the end (not timed), with the
// options of franzGroupOpts. Timed from NewClient to the last record, and to
// the first.
func franzRun(ctx context.Context, env *services, rr rowRound) (timed, error) {
	k := env.kafka
	want := k.fresh.messages
	start := time.Now()
	cl, err := kgo.NewClient(append(franzGroupOpts(k),
		kgo.ConsumerGroup(k.group(rr.row, rr.round)),
		kgo.ConsumeTopics(k.fresh.name),
		kgo.DisableAutoCommit(),
	)...)
	if err != nil {
		return timed{}, err
	}
	defer cl.Close()
	n, since := 0, 0
	var first time.Duration
	for n < want {
		fs := cl.PollFetches(ctx)
		if err := fetchErr(fs); err != nil {
			return timed{}, fmt.Errorf("%d of %d records: %w", n, want, err)
		}
		if n == 0 && fs.NumRecords() > 0 {
			first = time.Since(start)
		}
		fs.EachRecord(func(*kgo.Record) { n++; since++ })
		if since >= commitEvery {
			if err := cl.CommitUncommittedOffsets(ctx); err != nil {
				return timed{}, fmt.Errorf("commit: %w", err)
			}
			since = 0
		}
	}
	elapsed := time.Since(start)
	if err := cl.CommitUncommittedOffsets(ctx); err != nil {
		return timed{}, fmt.Errorf("final commit: %w", err)
	}
	return timed{elapsed, want, first}, nil
}

// fetchErr joins the errors of a poll (a cancelled poll's included).
func fetchErr(fs kgo.Fetches) error {
	var errs []error
	fs.EachError(func(t string, p int32, err error) {
		errs = append(errs, fmt.Errorf("%s[%d]: %w", t, p, err))
	})
	return errors.Join(errs...)
}
