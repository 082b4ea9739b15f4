package dedupetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// codecTests cover how values are encoded, and stored values that cannot be decoded.
var codecTests = map[string]func(*testing.T, Backend){
	"CorruptStoredValueIsTypedErrorAndKept": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		if _, won, err := s.Commit(ctx, k, dedupe.Commit{Token: "t", Value: []byte("{not json"), TTL: time.Minute}); err != nil || !won {
			t.Fatalf("Commit = %v, %v", won, err)
		}
		for _, opts := range [][]dedupe.RunOption{{dedupe.WithOptimistic()}, {dedupe.WithOptimistic(), dedupe.WithEagerStart()}, {dedupe.WithClaim(time.Second)}} {
			_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
				<-ctx.Done() // eager start: fn runs until the check cancels it
				return 0, ctx.Err()
			}, opts...)
			var decodeErr *dedupe.DecodeError
			if !errors.As(err, &decodeErr) || decodeErr.Key != k {
				t.Fatalf("Run = %v, want *dedupe.DecodeError naming %q", err, k)
			}
		}
		if rec, _ := s.Get(ctx, k); string(rec.Value) != "{not json" {
			t.Fatalf("stored value = %q, want it untouched", rec.Value)
		}
	},
	"RawCodecStoresBytesAsTheyAre": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		raw := []byte{0, 1, 2, 0xff, '{'}
		commitValue(t, s, k, raw, dedupe.WithCodec(dedupe.RawCodec{}))
		if rec, _ := s.Get(ctx, k); string(rec.Value) != string(raw) {
			t.Fatalf("stored = %q, want %q", rec.Value, raw)
		}
		_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[[]byte]) (int, error) {
			return 0, nil
		}, dedupe.WithCodec(dedupe.RawCodec{}), dedupe.WithOptimistic())
		conflict, ok := asConflict[[]byte](err)
		if !ok || string(conflict.Value) != string(raw) {
			t.Fatalf("duplicate = %v, want a conflict carrying %q", err, raw)
		}
	},
	"UnencodableValueCommitsNothing": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[func()]) (int, error) {
			end(func() {})
			return 0, nil
		}, dedupe.WithOptimistic())
		if err == nil || errors.Is(err, dedupe.ErrCommitUnknown) {
			t.Fatalf("Run = %v, want an encoding error", err)
		}
		if rec, _ := s.Get(ctx, k); rec.State != dedupe.Absent {
			t.Fatalf("key is %v, want absent", rec.State)
		}
	},
}
