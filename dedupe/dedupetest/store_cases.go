package dedupetest

import (
	"context"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
)

// storeTests check the Store primitives directly, with no guard in between.
var storeTests = map[string]func(*testing.T, Backend){
	"GetOfFreeKeyIsAbsent": func(t *testing.T, b Backend) {
		s := openStore(t, b)
		rec, err := s.Get(testContext(t), key(t))
		if err != nil || rec.State != dedupe.Absent {
			t.Fatalf("Get = %+v, %v; want Absent, nil", rec, err)
		}
	},
	"FirstCommitWinsSecondSeesIt": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		if _, won, err := s.Commit(ctx, k, dedupe.Commit{Token: "first", Value: []byte("a"), TTL: time.Minute}); err != nil || !won {
			t.Fatalf("first Commit won = %v, %v; want true, nil", won, err)
		}
		cur, won, err := s.Commit(ctx, k, dedupe.Commit{Token: "second", Value: []byte("b"), TTL: time.Minute})
		if err != nil || won || cur.State != dedupe.Committed || string(cur.Value) != "a" {
			t.Fatalf("second Commit = %+v, won %v, %v; want committed \"a\", false", cur, won, err)
		}
	},
	"ClaimFencesCommit": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		if _, ok, err := s.Claim(ctx, k, "owner", time.Minute); err != nil || !ok {
			t.Fatalf("Claim = %v, %v; want true, nil", ok, err)
		}
		cur, ok, err := s.Claim(ctx, k, "other", time.Minute)
		if err != nil || ok || cur.State != dedupe.Claimed || cur.Token != "owner" || cur.TTL <= 0 {
			t.Fatalf("second Claim = %+v, %v, %v; want claimed by owner with a TTL", cur, ok, err)
		}
		for _, c := range []dedupe.Commit{{Token: "owner"}, {Token: "other"}, {Token: "other", Fenced: true}} {
			c.Value, c.TTL = []byte("x"), time.Minute
			if _, won, err := s.Commit(ctx, k, c); err != nil || won {
				t.Fatalf("Commit %+v won = %v, %v; want false, nil", c, won, err)
			}
		}
		if _, won, err := s.Commit(ctx, k, dedupe.Commit{Token: "owner", Fenced: true, Value: []byte("v"), TTL: time.Minute}); err != nil || !won {
			t.Fatalf("owner's Commit won = %v, %v; want true, nil", won, err)
		}
		if held, err := s.Renew(ctx, k, "owner", time.Minute); err != nil || held {
			t.Fatalf("Renew after commit = %v, %v; want false, nil", held, err)
		}
	},
	"ReleaseIsTokenCheckedAndNotifies": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		in, err := s.Watch(ctx, k)
		if err != nil {
			t.Fatalf("Watch: %v", err)
		}
		defer in.Close()
		if _, ok, err := s.Claim(ctx, k, "owner", time.Minute); err != nil || !ok {
			t.Fatalf("Claim = %v, %v", ok, err)
		}
		if ok, err := s.Release(ctx, k, "other"); err != nil || ok {
			t.Fatalf("Release by other = %v, %v; want false, nil", ok, err)
		}
		if ok, err := s.Release(ctx, k, "owner"); err != nil || !ok {
			t.Fatalf("Release by owner = %v, %v; want true, nil", ok, err)
		}
		select {
		case ev := <-in.Events():
			if ev.Kind != dedupe.EventRelease {
				t.Fatalf("event = %+v, want EventRelease", ev)
			}
		case <-ctx.Done():
			t.Fatal("no release event")
		}
	},
	"WatchSeesCommitOfAnotherStore": func(t *testing.T, b Backend) {
		s1, s2, ctx, k := openStore(t, b), openStore(t, b), testContext(t), key(t)
		in, err := s1.Watch(ctx, k)
		if err != nil {
			t.Fatalf("Watch: %v", err)
		}
		defer in.Close()
		if _, won, err := s2.Commit(ctx, k, dedupe.Commit{Token: "t", Value: []byte("v"), TTL: time.Minute}); err != nil || !won {
			t.Fatalf("Commit = %v, %v", won, err)
		}
		select {
		case ev := <-in.Events():
			if ev.Kind != dedupe.EventCommit || string(ev.Value) != "v" {
				t.Fatalf("event = %+v, want EventCommit \"v\"", ev)
			}
		case <-ctx.Done():
			t.Fatal("no commit event")
		}
	},
	"RenewExtendsLease": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		if _, ok, err := s.Claim(ctx, k, "owner", 200*time.Millisecond); err != nil || !ok {
			t.Fatalf("Claim = %v, %v", ok, err)
		}
		if held, err := s.Renew(ctx, k, "owner", time.Minute); err != nil || !held {
			t.Fatalf("Renew = %v, %v; want true, nil", held, err)
		}
		cur, _, err := s.Claim(ctx, k, "other", time.Minute)
		if err != nil || cur.TTL < 30*time.Second {
			t.Fatalf("TTL after Renew = %v, %v; want about 1m", cur.TTL, err)
		}
	},
	"KeysWithBracesWork": func(t *testing.T, b Backend) {
		s, ctx := openStore(t, b), testContext(t)
		// On a Cluster the record and its channel must share a slot for any
		// key bytes: a brace can end or empty a naive {key} hash tag.
		for _, k := range []string{"}x", "{", "}", "{}", "a{b}c", "{x}y", "}{", "x{}"} {
			k := k + key(t)
			_, err := dedupe.Run(ctx, s, k, func(ctx context.Context, end dedupe.End[int]) (int, error) {
				return 0, errHandler // released
			}, dedupe.WithClaim(time.Minute))
			assertErr(t, err, errHandler)
			if _, err := dedupe.Run(ctx, s, k, noop, dedupe.WithClaim(time.Minute), dedupe.WithNoWait()); err != nil {
				t.Fatalf("key %q: run after a released claim = %v, want nil", k, err)
			}
			_, err = dedupe.Run(ctx, s, k, noop, dedupe.WithOptimistic())
			assertConflict(t, err, 1)
		}
	},
	"SubMillisecondDurationsAreRoundedUp": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		if _, ok, err := s.Claim(ctx, k, "owner", 500*time.Microsecond); err != nil || !ok {
			t.Fatalf("Claim with a 500µs lease = %v, %v; want true, nil", ok, err)
		}
		c := dedupe.Commit{Token: "owner", Fenced: true, Value: []byte("v"), TTL: 500 * time.Microsecond}
		if _, won, err := s.Commit(ctx, k, c); err != nil {
			t.Fatalf("Commit with a 500µs TTL = %v, %v; want no error (won, or lost to the expiry)", won, err)
		}
	},
	"RetriedClaimSetsLeaseAgain": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		if _, ok, err := s.Claim(ctx, k, "owner", 300*time.Millisecond); err != nil || !ok {
			t.Fatalf("Claim = %v, %v", ok, err)
		}
		if _, ok, err := s.Claim(ctx, k, "owner", time.Minute); err != nil || !ok {
			t.Fatalf("the same claim again = %v, %v; want true, nil", ok, err)
		}
		cur, _, err := s.Claim(ctx, k, "other", time.Minute)
		if err != nil || cur.TTL < 30*time.Second {
			t.Fatalf("lease after the retried claim = %v, %v; want about 1m", cur.TTL, err)
		}
	},
	"CommitAfterExpiredClaimLandsWhenNobodyTookTheKey": func(t *testing.T, b Backend) {
		// The owner's commit was held up past its lease (a stalled link):
		// nobody holds the key, the work is done, so the commit lands
		// rather than send the key to be run again.
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		if _, ok, err := s.Claim(ctx, k, "owner", 30*time.Millisecond); err != nil || !ok {
			t.Fatalf("Claim = %v, %v", ok, err)
		}
		waitFree(t, s, k, 5*time.Second)
		c := dedupe.Commit{Token: "owner", Fenced: true, Value: []byte("late"), TTL: time.Minute}
		if _, won, err := s.Commit(ctx, k, c); err != nil || !won {
			t.Fatalf("fenced Commit on a free key = %v, %v; want true: nobody took the key", won, err)
		}
	},
	"CommitAfterExpiredClaimIsFencedByTheTaker": func(t *testing.T, b Backend) {
		s, ctx, k := openStore(t, b), testContext(t), key(t)
		if _, ok, err := s.Claim(ctx, k, "owner", 30*time.Millisecond); err != nil || !ok {
			t.Fatalf("Claim = %v, %v", ok, err)
		}
		waitFree(t, s, k, 5*time.Second)
		if _, ok, err := s.Claim(ctx, k, "taker", time.Minute); err != nil || !ok {
			t.Fatalf("taker's Claim = %v, %v", ok, err)
		}
		c := dedupe.Commit{Token: "owner", Fenced: true, Value: []byte("late"), TTL: time.Minute}
		cur, won, err := s.Commit(ctx, k, c)
		if err != nil || won || cur.State != dedupe.Claimed || cur.Token != "taker" {
			t.Fatalf("the stale owner's Commit = %+v, won %v, %v; want refused: the taker holds the key", cur, won, err)
		}
	},
}
