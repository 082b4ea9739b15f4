package idemqfranz_test

import (
	"cmp"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	idemqfranz "github.com/idemq/idemq/adapters/franz"
	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
)

// TestConfigErrors proves that every Config a user could get wrong - the
// adapter's own fields and the franz-go options that would break its
// guarantees - is a *ConfigError naming the field at NewConsumer, matching
// ErrInvalidConfig, before anything connects. The fields both adapters
// share are kafkatest's Config scenarios (TestScenarios).
func TestConfigErrors(t *testing.T) {
	t.Parallel()
	store := dedupe.NewMemoryStore()
	t.Cleanup(func() { _ = store.Close() })
	valid := func() idemqfranz.Config[string] {
		return idemqfranz.Config[string]{
			Group:  "g",
			Topics: []string{"t"},
			Client: []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")},
			Store:  store,
			Handle: func(context.Context, *kgo.Record, dedupe.End[string]) error { return nil },
		}
	}
	opt := func(o kgo.Opt) func(*idemqfranz.Config[string]) {
		return func(c *idemqfranz.Config[string]) { c.Client = append(c.Client, o) }
	}
	deadLetter := func(topic string, opts ...kgo.Opt) func(*idemqfranz.Config[string]) {
		return func(c *idemqfranz.Config[string]) {
			cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}, opts...)...)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(cl.Close)
			c.DeadLetter, c.DeadLetterTopic = cl, topic
		}
	}
	partitionsFunc := func(context.Context, *kgo.Client, map[string][]int32) {}
	// mentions are what franz-go's own refusals say, where not the option's name.
	mentions := map[string]string{"SessionTimeout": "session timeout", "ConsumePartitions": "direct-partition"}
	type change = func(*idemqfranz.Config[string])
	for _, tc := range []struct {
		name, field string
		change      change
	}{
		{"NoGroup", "Group", func(c *idemqfranz.Config[string]) { c.Group = "" }},
		{"NoTopics", "Topics", func(c *idemqfranz.Config[string]) { c.Topics = nil }},
		{"EmptyTopic", "Topics", func(c *idemqfranz.Config[string]) { c.Topics = []string{"t", ""} }},
		{"ConsumerGroup", "Client", opt(kgo.ConsumerGroup("other"))},
		{"OnPartitionsRevoked", "Client", opt(kgo.OnPartitionsRevoked(partitionsFunc))},
		{"OnPartitionsAssigned", "Client", opt(kgo.OnPartitionsAssigned(partitionsFunc))},
		{"OnPartitionsLost", "Client", opt(kgo.OnPartitionsLost(partitionsFunc))},
		{"BlockRebalanceOnPoll", "Client", opt(kgo.BlockRebalanceOnPoll())},
		{"GreedyAutoCommit", "Client", opt(kgo.GreedyAutoCommit())},
		{"AutoCommitMarks", "Client", opt(kgo.AutoCommitMarks())},
		{"AutoCommitCallback", "Client", opt(kgo.AutoCommitCallback(func(*kgo.Client, *kmsg.OffsetCommitRequest, *kmsg.OffsetCommitResponse, error) {}))},
		{"KeepControlRecords", "Client", opt(kgo.KeepControlRecords())},
		{"ConsumePartitions", "Client", opt(kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"t": {0: kgo.NewOffset()}}))},
		{"SessionTimeout", "Client", opt(kgo.SessionTimeout(time.Millisecond))},
		{"DeadLetterTopicWithoutClient", "DeadLetterTopic", func(c *idemqfranz.Config[string]) { c.DeadLetterTopic = "dlt" }},
		{"DeadLetterNoTopic", "DeadLetterTopic", deadLetter("")},
		{"DeadLetterNoAcks", "DeadLetter", deadLetter("dlt", kgo.RequiredAcks(kgo.NoAck()), kgo.DisableIdempotentWrite())},
		{"DeadLetterTransactional", "DeadLetter", deadLetter("dlt", kgo.TransactionalID("tx"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid()
			tc.change(&cfg)
			c, err := idemqfranz.NewConsumer(cfg)
			var ce *consumer.ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, consumer.ErrInvalidConfig) || c != nil {
				t.Fatalf("NewConsumer = %v, %v; want nil, a *ConfigError", c, err)
			}
			if ce.Field != tc.field || !strings.HasPrefix(err.Error(), "idemqfranz: invalid config: "+tc.field) {
				t.Errorf("error %q names field %q, want %q", err, ce.Field, tc.field)
			}
			if mention := cmp.Or(mentions[tc.name], tc.name); tc.field == "Client" && !strings.Contains(err.Error(), mention) {
				t.Errorf("error %q does not say %q", err, mention)
			}
		})
	}
	t.Run("ValidWithGroupOptions", func(t *testing.T) {
		t.Parallel()
		cfg := valid()
		cfg.Client = append(cfg.Client, kgo.ConsumerGroup("g"), kgo.InstanceID("pod-1"), kgo.Balancers(kgo.CooperativeStickyBalancer()))
		if _, err := idemqfranz.NewConsumer(cfg); err != nil {
			t.Errorf("NewConsumer = %v, want nil", err)
		}
	})
}
