package kafkaadmin

import (
	"context"
	"errors"
	"fmt"

	kafkago "github.com/segmentio/kafka-go"
)

// Remove deletes groups and topics (either may be empty). A group or topic
// that does not exist (a run that failed before its join, a restarted
// broker) is not an error.
func Remove(ctx context.Context, c *kafkago.Client, topics, groups []string) error {
	var errs []error
	if len(groups) > 0 {
		res, err := c.DeleteGroups(ctx, &kafkago.DeleteGroupsRequest{GroupIDs: groups})
		errs = append(errs, wrap(err, "deleting groups"))
		if err == nil {
			for g, err := range res.Errors {
				if !errors.Is(err, kafkago.GroupIdNotFound) {
					errs = append(errs, wrap(err, "deleting group "+g))
				}
			}
		}
	}
	if len(topics) > 0 {
		res, err := c.DeleteTopics(ctx, &kafkago.DeleteTopicsRequest{Topics: topics})
		errs = append(errs, wrap(err, "deleting topics"))
		if err == nil {
			for t, err := range res.Errors {
				if !errors.Is(err, kafkago.UnknownTopicOrPartition) {
					errs = append(errs, wrap(err, "deleting topic "+t))
				}
			}
		}
	}
	return errors.Join(errs...)
}

func wrap(err error, doing string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("kafkaadmin: %s: %w", doing, err)
}
