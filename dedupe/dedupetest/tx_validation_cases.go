package dedupetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/idemq/idemq/dedupe"
)

// txValidationTests cover bad input: a clear error, nothing run, nothing
// stored; and the edges of what is accepted.
var txValidationTests = map[string]func(*testing.T, TxHarness){
	"RejectsBadKeys": func(t *testing.T, h TxHarness) {
		s := h.store(t)
		for name, k := range map[string]string{"Empty": "", "OverMaxKeyLen": strings.Repeat("k", dedupe.MaxKeyLen+1)} {
			if _, err := s.RunTx(testContext(t), k, nil, notCalled(t)); !errors.Is(err, dedupe.ErrInvalidKey) {
				t.Errorf("%s key: %v, want ErrInvalidKey", name, err)
			}
		}
	},
	"LongestKeyRuns": func(t *testing.T, h TxHarness) {
		s, k := h.store(t), key(t)
		k += strings.Repeat("k", dedupe.MaxKeyLen-len(k))
		out, err := runEffect(t, h, s, k, "first", nil)
		assertRan(t, out, err, "first")
		out, err = s.RunTx(testContext(t), k, nil, notCalled(t))
		assertDuplicate(t, out, err, "first")
	},
	"AnyBytesKey": func(t *testing.T, h TxHarness) {
		// dedupe.CheckKey: keys are binary-safe (a Kafka message key, a
		// hash), and two keys that differ in any byte are two keys.
		s := h.store(t)
		ks := []string{"k\x00", "k\x00\x01", "k\xff", "k\xc3", "k"}
		for i, k := range ks {
			out, err := runEffect(t, h, s, k, fmt.Sprint("run ", i), nil)
			assertRan(t, out, err, fmt.Sprint("run ", i))
		}
		for i, k := range ks {
			out, err := s.RunTx(testContext(t), k, nil, notCalled(t))
			assertDuplicate(t, out, err, fmt.Sprint("run ", i))
			h.assertEffects(t, k, fmt.Sprint("run ", i))
		}
	},
	"NilFunctionIsInvalid": func(t *testing.T, h TxHarness) {
		s, k := h.store(t), key(t)
		if _, err := s.RunTx(testContext(t), k, nil, nil); !errors.Is(err, dedupe.ErrInvalidOption) {
			t.Fatalf("RunTx with a nil function = %v, want ErrInvalidOption", err)
		}
		out, err := runEffect(t, h, s, k, "first", nil)
		assertRan(t, out, err, "first")
	},
	"CancelledContextRunsNothing": func(t *testing.T, h TxHarness) {
		s, k := h.store(t), key(t)
		ctx, cancel := context.WithCancel(testContext(t))
		cancel()
		if _, err := s.RunTx(ctx, k, nil, notCalled(t)); !errors.Is(err, context.Canceled) {
			t.Fatalf("RunTx with a cancelled context = %v, want context.Canceled", err)
		}
		h.assertEffects(t, k)
		out, err := runEffect(t, h, s, k, "first", nil)
		assertRan(t, out, err, "first")
	},
}
