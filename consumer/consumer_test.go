package consumer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
)

func TestGuardCheck(t *testing.T) {
	for _, tc := range []struct {
		g         consumer.Guard
		wantField string // "" for valid
	}{
		{consumer.Guard{}, ""},
		{consumer.Guard{Optimistic: true}, ""},
		{consumer.Guard{Lease: dedupe.MinLease, TTL: time.Millisecond}, ""},
		{consumer.Guard{Optimistic: true, Lease: time.Second}, "Guard.Lease"},
		{consumer.Guard{Lease: dedupe.MinLease - 1}, "Guard.Lease"},
		{consumer.Guard{Lease: -time.Second}, "Guard.Lease"},
		{consumer.Guard{TTL: time.Microsecond}, "Guard.TTL"},
		{consumer.Guard{TTL: -time.Hour}, "Guard.TTL"},
	} {
		err := tc.g.Check("idemqtest")
		if tc.wantField == "" {
			if err != nil {
				t.Errorf("%+v: Check = %v, want nil", tc.g, err)
			}
			continue
		}
		var ce *consumer.ConfigError
		if !errors.As(err, &ce) || ce.Field != tc.wantField || ce.Package != "idemqtest" {
			t.Errorf("%+v: Check = %#v, want a *ConfigError for idemqtest's %s", tc.g, err, tc.wantField)
		}
		if !errors.Is(err, consumer.ErrInvalidConfig) {
			t.Errorf("%+v: errors.Is(%v, ErrInvalidConfig) = false", tc.g, err)
		}
		if !strings.HasPrefix(err.Error(), "idemqtest: invalid config: "+tc.wantField+" ") {
			t.Errorf("%+v: message %q does not start with the package and the field", tc.g, err)
		}
	}
}

func TestGuardDefaults(t *testing.T) {
	got := consumer.Guard{}.WithDefaults()
	if want := (consumer.Guard{Lease: dedupe.DefaultLease, TTL: dedupe.DefaultTTL}); got != want {
		t.Errorf("claim-first defaults = %+v, want %+v", got, want)
	}
	got = consumer.Guard{Optimistic: true}.WithDefaults()
	if want := (consumer.Guard{Optimistic: true, TTL: dedupe.DefaultTTL}); got != want {
		t.Errorf("optimistic defaults = %+v, want %+v", got, want)
	}
	set := consumer.Guard{Lease: time.Minute, TTL: time.Hour}
	if got := set.WithDefaults(); got != set {
		t.Errorf("WithDefaults changed set fields: %+v, want %+v", got, set)
	}
}

// TestGuardRunOptions runs each mode's options on a MemoryStore: claim-first
// leaves a claim while fn runs, optimistic mode does not.
func TestGuardRunOptions(t *testing.T) {
	for _, tc := range []struct {
		g         consumer.Guard
		wantClaim bool
	}{
		{consumer.Guard{}, true},
		{consumer.Guard{Optimistic: true}, false},
	} {
		store := dedupe.NewMemoryStore()
		_, err := dedupe.Run(t.Context(), store, "k", func(ctx context.Context, end dedupe.End[string]) (struct{}, error) {
			rec, err := store.Get(ctx, "k")
			if err != nil {
				return struct{}{}, err
			}
			if claimed := rec.State == dedupe.Claimed; claimed != tc.wantClaim {
				t.Errorf("%+v: key claimed while fn runs = %v, want %v", tc.g, claimed, tc.wantClaim)
			}
			end("v")
			return struct{}{}, nil
		}, tc.g.RunOptions()...)
		if err != nil {
			t.Errorf("%+v: Run = %v", tc.g, err)
		}
		store.Close()
	}
}

func TestKeyPolicyCheck(t *testing.T) {
	if err := consumer.KeySkip.Check("idemqtest", "InvalidKey", consumer.KeyReject, consumer.KeySkip); err != nil {
		t.Errorf("allowed policy: %v", err)
	}
	for _, p := range []consumer.KeyPolicy{consumer.KeyDeadLetter, consumer.KeyPolicy(9), consumer.KeyPolicy(-1)} {
		err := p.Check("idemqtest", "InvalidKey", consumer.KeyReject, consumer.KeySkip)
		var ce *consumer.ConfigError
		if !errors.As(err, &ce) || ce.Field != "InvalidKey" {
			t.Errorf("%v: Check = %v, want a *ConfigError for InvalidKey", p, err)
		}
	}
}

func TestBackoff(t *testing.T) {
	b := consumer.Backoff{}.WithDefaults()
	if want := (consumer.Backoff{Min: consumer.DefaultBackoffMin, Max: consumer.DefaultBackoffMax}); b != want {
		t.Fatalf("defaults = %+v, want %+v", b, want)
	}
	if got := (consumer.Backoff{Min: time.Minute}).WithDefaults().Max; got != time.Minute {
		t.Errorf("Max under a larger Min = %v, want the Min", got)
	}
	for n := range 12 {
		want := min(b.Min<<n, b.Max)
		if d := b.Delay(n); d > want || d < want-want/5 {
			t.Errorf("Delay(%d) = %v, want in [%v, %v]", n, d, want-want/5, want)
		}
	}
	if d := (consumer.Backoff{}).Delay(3); d != 0 {
		t.Errorf("zero Backoff's delay = %v, want 0", d)
	}
	for _, bad := range []consumer.Backoff{{Min: -1}, {Max: -1}, {Min: time.Second, Max: time.Millisecond}} {
		if err := bad.Check("idemqtest", "Backoff"); !errors.Is(err, consumer.ErrInvalidConfig) {
			t.Errorf("%+v: Check = %v, want ErrInvalidConfig", bad, err)
		}
	}
}

func TestStrings(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{consumer.KeyDeadLetter.String(), "dead-letter"},
		{consumer.KeyPolicy(7).String(), "KeyPolicy(7)"},
		{consumer.ByKey.String(), "by key"},
		{consumer.Ordering(5).String(), "Ordering(5)"},
		{consumer.ProcessedWithoutKey.String(), "processed without key"},
		{consumer.Outcome(0).String(), "unknown"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
