package idemqfranz

import (
	"reflect"
	"runtime"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/consume"
	"github.com/idemq/idemq/internal/ratelog"
)

// withDefaults returns cfg with every zero optional field set, or a
// *consumer.ConfigError for a field out of range. It checks what both
// NewConsumer and NewProcessor use; checkClient checks the consumer's.
func withDefaults[V any](cfg Config[V]) (Config[V], error) {
	if err := checkRequired(cfg); err != nil {
		return cfg, err
	}
	if err := settings(cfg).CheckRanges(pkg); err != nil {
		return cfg, err
	}
	if cfg.KeyFunc == nil {
		cfg.KeyFunc = HeaderKey(DefaultKeyHeader)
	}
	st := settings(cfg).WithDefaults()
	cfg.Guard, cfg.Backoff, cfg.Attempts, cfg.MaxInFlight = st.Guard, st.Backoff, st.Attempts, st.MaxInFlight
	cfg.BatchSize, cfg.CommitEvery, cfg.CommitInterval, cfg.DrainTimeout = st.BatchSize, st.CommitEvery, st.CommitInterval, st.DrainTimeout
	if cfg.Codec == nil {
		cfg.Codec = dedupe.JSONCodec{}
	}
	cfg.Logger = ratelog.Logger(cfg.Logger, 0)
	return cfg, nil
}

func checkRequired[V any](cfg Config[V]) error {
	if err := settings(cfg).CheckStore(pkg); err != nil {
		return err
	}
	switch {
	case cfg.Handle == nil:
		return invalid("Handle", "is required")
	case cfg.InvalidKey == consumer.KeyDeadLetter && cfg.DeadLetter == nil:
		return invalid("InvalidKey", "is KeyDeadLetter but DeadLetter is nil")
	}
	return checkDeadLetter(cfg.DeadLetter, cfg.DeadLetterTopic)
}

// settings are cfg's fields that every Kafka adapter shares.
func settings[V any](cfg Config[V]) consume.Settings {
	return consume.Settings{
		Store: cfg.Store, TxStore: cfg.TxStore, Guard: cfg.Guard, InvalidKey: cfg.InvalidKey, Ordering: cfg.Ordering,
		Backoff: cfg.Backoff, Attempts: cfg.Attempts, MaxInFlight: cfg.MaxInFlight, BatchSize: cfg.BatchSize,
		CommitEvery: cfg.CommitEvery, CommitInterval: cfg.CommitInterval, DrainTimeout: cfg.DrainTimeout,
	}
}

// refusedKinds are options of Config.Client that would break the
// consumer's guarantees and that OptValue cannot read back: once a group is
// set, franz-go installs callbacks of its own. They are recognised by the
// name of the constructor that made them (kind).
var refusedKinds = []struct {
	name, why string
}{
	{"OnPartitionsAssigned", "the consumer installs its own partition callbacks"},
	{"OnPartitionsRevoked", "the consumer installs its own partition callbacks"},
	{"OnPartitionsLost", "the consumer installs its own partition callbacks"},
	{"AutoCommitCallback", "the consumer commits offsets itself, once outcomes are final"},
}

// refusedValues are options of Config.Client that would break the
// consumer's guarantees, read back with kgo.Client.OptValue.
var refusedValues = []struct {
	opt any
	set func(v any) bool
	why string
}{
	{kgo.BlockRebalanceOnPoll, isTrue, "the consumer polls across rebalances; its revoke callback drains the partition"},
	{kgo.GreedyAutoCommit, isTrue, "the consumer commits offsets itself, once outcomes are final"},
	{kgo.AutoCommitMarks, isTrue, "the consumer commits offsets itself, once outcomes are final"},
	{kgo.KeepControlRecords, isTrue, "control records are not messages"},
}

// checkClient refuses Group, Topics and Client options the consumer cannot
// run with. It reads the options back from a client that consumes no
// topic, so it joins no group and fetches nothing.
func checkClient[V any](cfg Config[V]) error {
	switch {
	case cfg.Group == "":
		return invalid("Group", "is required")
	case len(cfg.Topics) == 0 || slices.Contains(cfg.Topics, ""):
		return invalid("Topics", "is %q: want at least one topic, none empty", cfg.Topics)
	}
	for _, o := range cfg.Client {
		for _, r := range refusedKinds {
			if kind(o) == r.name {
				return invalid("Client", "sets %s: %s", r.name, r.why)
			}
		}
	}
	opts := append([]kgo.Opt{kgo.ConsumerGroup(cfg.Group)}, cfg.Client...)
	probe, err := kgo.NewClient(append(opts, kgo.ConsumeTopics())...)
	if err != nil {
		return invalid("Client", "%v", err)
	}
	defer probe.Close()
	for _, r := range refusedValues {
		if r.set(probe.OptValue(r.opt)) {
			return invalid("Client", "sets %s: %s", optName(r.opt), r.why)
		}
	}
	if g := probe.OptValue(kgo.ConsumerGroup).(string); g != "" && g != cfg.Group {
		return invalid("Client", "sets ConsumerGroup(%q) but Group is %q", g, cfg.Group)
	}
	return nil
}

// pkg names this package in its *consumer.ConfigError values.
const pkg = "idemqfranz"

// invalid returns a *consumer.ConfigError for field.
func invalid(field, format string, args ...any) error {
	return consumer.Invalid(pkg, field, format, args...)
}

func isTrue(v any) bool { b, ok := v.(bool); return ok && b }

// kind is the name of the kgo constructor that made o ("" if unknown):
// kgo options are structs holding one closure, whose symbol is named after
// the constructor, e.g. "kgo.OnPartitionsLost.func1", or, inlined,
// "main.run.OnPartitionsLost.func3".
func kind(o kgo.Opt) string {
	v := reflect.ValueOf(o)
	if v.Kind() != reflect.Struct || v.NumField() != 1 || v.Field(0).Kind() != reflect.Func || v.Field(0).IsNil() {
		return ""
	}
	f := runtime.FuncForPC(v.Field(0).Pointer())
	if f == nil {
		return ""
	}
	parts := strings.Split(f.Name(), ".")
	if len(parts) < 2 || !strings.HasPrefix(parts[len(parts)-1], "func") {
		return ""
	}
	return parts[len(parts)-2]
}

// optName is the name of a kgo option constructor, e.g.
// "BlockRebalanceOnPoll".
func optName(opt any) string {
	name := runtime.FuncForPC(reflect.ValueOf(opt).Pointer()).Name()
	return name[strings.LastIndexByte(name, '.')+1:]
}
