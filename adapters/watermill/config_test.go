package watermill_test

import (
	"errors"
	"testing"
	"time"

	idemqwatermill "github.com/idemq/idemq/adapters/watermill"
)

func TestNewRejectsInvalidConfig(t *testing.T) {
	t.Parallel()
	store := memoryStore(t)
	tests := []struct {
		name string
		cfg  idemqwatermill.Config
	}{
		{"NegativeTTL", idemqwatermill.Config{TTL: -time.Second}},
		{"NegativeStartTimeout", idemqwatermill.Config{StartTimeout: -time.Second}},
		{"LeaseTooShort", idemqwatermill.Config{Lease: time.Millisecond}},
		{"OptimisticWithLease", idemqwatermill.Config{Optimistic: true, Lease: time.Second}},
		{"OptimisticWithNoWait", idemqwatermill.Config{Optimistic: true, NoWait: true}},
		{"UnknownMissingKeyPolicy", idemqwatermill.Config{MissingKey: 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			d, err := idemqwatermill.New(store, tt.cfg)
			if !errors.Is(err, idemqwatermill.ErrInvalidConfig) || d != nil {
				t.Errorf("New = %v, %v; want nil, ErrInvalidConfig", d, err)
			}
		})
	}
	t.Run("NilStore", func(t *testing.T) {
		t.Parallel()
		if _, err := idemqwatermill.New(nil, idemqwatermill.Config{}); !errors.Is(err, idemqwatermill.ErrInvalidConfig) {
			t.Errorf("New(nil) error = %v, want ErrInvalidConfig", err)
		}
	})
	t.Run("ZeroConfigIsValid", func(t *testing.T) {
		t.Parallel()
		if _, err := idemqwatermill.New(store, idemqwatermill.Config{}); err != nil {
			t.Errorf("New(zero Config) error = %v, want nil", err)
		}
	})
	t.Run("NilPublisher", func(t *testing.T) {
		t.Parallel()
		d := newDedup(t, store, idemqwatermill.Config{})
		if _, err := d.DecoratePublisher(nil); !errors.Is(err, idemqwatermill.ErrInvalidConfig) {
			t.Errorf("DecoratePublisher(nil) error = %v, want ErrInvalidConfig", err)
		}
	})
}

func TestMissingKeyPolicyString(t *testing.T) {
	t.Parallel()
	for p, want := range map[idemqwatermill.MissingKeyPolicy]string{
		idemqwatermill.MissingKeyReject:  "reject",
		idemqwatermill.MissingKeyProcess: "process",
		idemqwatermill.MissingKeySkip:    "skip",
		9:                                "MissingKeyPolicy(9)",
	} {
		if got := p.String(); got != want {
			t.Errorf("MissingKeyPolicy(%d).String() = %q, want %q", int(p), got, want)
		}
	}
}
