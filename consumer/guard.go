package consumer

import (
	"time"

	"github.com/idemq/idemq/dedupe"
)

// Guard is the guard's settings an adapter runs each message under. Its
// zero value is claim-first mode with dedupe's DefaultLease and DefaultTTL.
type Guard struct {
	// Optimistic runs handlers without a claim (dedupe.WithOptimistic):
	// duplicates delivered at once may all run, and one commit wins. The
	// default is claim-first (dedupe.WithClaim).
	Optimistic bool

	// Lease is the claim's lease in claim-first mode (default
	// dedupe.DefaultLease, at least dedupe.MinLease): how long a crashed
	// member's keys stay blocked, and how long a store stall may last
	// before a running handler's claim can be taken over. Optimistic mode
	// takes none.
	Lease time.Duration

	// TTL is how long a committed key is remembered (default
	// dedupe.DefaultTTL, at least 1ms).
	TTL time.Duration
}

// Check returns a *ConfigError for pkg's Config (its field Guard) when g
// is out of range.
func (g Guard) Check(pkg string) error {
	switch {
	case g.Optimistic && g.Lease != 0:
		return Invalid(pkg, "Guard.Lease", "is %v but Optimistic mode takes no claim", g.Lease)
	case g.Lease < 0 || g.Lease > 0 && g.Lease < dedupe.MinLease:
		return Invalid(pkg, "Guard.Lease", "is %v, want >= %v (0: the default)", g.Lease, dedupe.MinLease)
	case g.TTL < 0 || g.TTL > 0 && g.TTL < time.Millisecond:
		return Invalid(pkg, "Guard.TTL", "is %v, want >= 1ms (0: the default)", g.TTL)
	}
	return nil
}

// WithDefaults returns g with its zero fields set.
func (g Guard) WithDefaults() Guard {
	if g.TTL == 0 {
		g.TTL = dedupe.DefaultTTL
	}
	if g.Lease == 0 && !g.Optimistic {
		g.Lease = dedupe.DefaultLease
	}
	return g
}

// RunOptions returns the dedupe.Run options of g (defaults applied): its
// mode, lease and TTL.
func (g Guard) RunOptions() []dedupe.RunOption {
	var opts []dedupe.RunOption
	for _, o := range g.options() {
		opts = append(opts, o)
	}
	return opts
}

// BatchOptions returns the same as dedupe.NewBatch options.
func (g Guard) BatchOptions() []dedupe.BatchOption {
	var opts []dedupe.BatchOption
	for _, o := range g.options() {
		opts = append(opts, o)
	}
	return opts
}

func (g Guard) options() []dedupe.Option {
	g = g.WithDefaults()
	if g.Optimistic {
		return []dedupe.Option{dedupe.WithTTL(g.TTL), dedupe.WithOptimistic()}
	}
	return []dedupe.Option{dedupe.WithTTL(g.TTL), dedupe.WithClaim(g.Lease)}
}
