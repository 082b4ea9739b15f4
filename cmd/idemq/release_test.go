package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testenv"
)

func TestReleaseByToken(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv testenv.RedisServer) {
		stuckClaims(t, srv, time.Minute, "stuck")
		token := inspect(t, srv, "stuck").Token
		wrong := on(t, srv, "", "release", "stuck", "--token", "someone-else")
		wrong.want(t, exitState)
		wrong.wantErr(t, `does not hold the claim of token "someone-else": it is claimed by token "`+token+`"`)
		on(t, srv, "", "release", "stuck", "--token", token).want(t, exitOK, `released the claim of token "`+token+`" on stuck`)
		if got := inspect(t, srv, "stuck"); got.State != dedupe.Absent {
			t.Errorf("after release: %+v, want free", got)
		}
		on(t, srv, "", "release", "stuck", "--token", token).want(t, exitState)
	})
}

func TestReleaseForce(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv testenv.RedisServer) {
		stuckClaims(t, srv, time.Minute, "a", "b")
		commit(t, srv, "done", "v")
		declined := on(t, srv, "n\n", "release", "a", "--force")
		declined.want(t, exitFailure)
		declined.wantErr(t, "Release the claim on a, claimed by token")
		declined.wantErr(t, "idemq: not confirmed; nothing changed")
		on(t, srv, "", "release", "a", "--force").want(t, exitFailure) // stdin ends: not confirmed
		if got := inspect(t, srv, "a"); got.State != dedupe.Claimed {
			t.Fatalf("after a declined release: %+v, want the claim", got)
		}
		on(t, srv, "yes\n", "release", "a", "--force").want(t, exitOK, "released the claim")
		r := on(t, srv, "", "-json", "release", "b", "--force", "-y")
		r.want(t, exitOK)
		var v releaseView
		if err := json.Unmarshal([]byte(r.out), &v); err != nil || !v.Released || !v.Forced || v.Key != "b" || v.Token == "" {
			t.Errorf("release -json = %q (%v), want released and forced", r.out, err)
		}
		for _, k := range []string{"a", "b"} {
			if got := inspect(t, srv, k); got.State != dedupe.Absent {
				t.Errorf("after release --force: %+v, want free", got)
			}
		}
		committed := on(t, srv, "", "release", "done", "--force", "-y")
		committed.want(t, exitState)
		committed.wantErr(t, "the key is committed by token")
		on(t, srv, "", "release", "free", "--force", "-y").want(t, exitState)
		if got := inspect(t, srv, "done"); got.State != dedupe.Committed {
			t.Errorf("release --force touched a committed value: %+v", got)
		}
	})
}

// TestReleaseForceIsFencedOnShownClaim changes the key's claim while the
// question (which names the claim's token) waits for its answer: the owner
// shown releases and another owner claims the key. The release answered
// "y" must not release that other owner: exit 3, nothing released.
func TestReleaseForceIsFencedOnShownClaim(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv testenv.RedisServer) {
		stuckClaims(t, srv, time.Minute, "k")
		shown := inspect(t, srv, "k").Token
		s := newStore(t, srv)
		ctx := context.Background()
		takeOver := func() {
			if ok, err := s.Release(ctx, "k", shown); !ok || err != nil {
				t.Errorf("Release of the shown claim = %v, %v", ok, err)
			}
			if _, ok, err := s.Claim(ctx, "k", "live-owner", time.Minute); !ok || err != nil {
				t.Errorf("Claim by another owner = %v, %v", ok, err)
			}
		}
		r := onReading(t, srv, answerAfter(takeOver, "y\n"), "release", "k", "--force")
		r.want(t, exitState)
		r.wantErr(t, `Release the claim on k, claimed by token "`+shown+`"`)
		r.wantErr(t, `it is claimed by token "live-owner"`)
		r.wantErr(t, "nothing was released")
		if got := inspect(t, srv, "k"); got.State != dedupe.Claimed || got.Token != "live-owner" {
			t.Errorf("after the answered release: %+v, want the live owner's claim", got)
		}
	})
}

// TestReleaseWakesWaiter checks that both releases let a waiting duplicate
// claim the key at once, not when the stuck claim's lease (a minute) ends.
func TestReleaseWakesWaiter(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv testenv.RedisServer) {
		for _, force := range []bool{false, true} {
			key := map[bool]string{false: "by-token", true: "forced"}[force]
			stuckClaims(t, srv, time.Minute, key)
			ran := waitFor(t, srv, key)
			args := []string{"release", key, "--force", "-y"}
			if !force {
				args = []string{"release", key, "--token", inspect(t, srv, key).Token}
			}
			on(t, srv, "", args...).want(t, exitOK)
			select {
			case <-ran:
			case <-time.After(10 * time.Second):
				t.Fatalf("%q: the waiting duplicate did not run within 10s of the release", args)
			}
		}
	})
}

// waitFor starts a claim-first Run of key that waits for its claim, and
// returns once the waiter marked the claim (it does so before it waits).
func waitFor(t *testing.T, srv testenv.RedisServer, key string) <-chan struct{} {
	t.Helper()
	ran, done := make(chan struct{}), make(chan struct{})
	s := newStore(t, srv)
	go func() {
		defer close(done)
		_, _ = dedupe.Run(context.Background(), s, key, func(ctx context.Context, end dedupe.End[string]) (int, error) {
			close(ran)
			end("ran")
			return 0, nil
		}, dedupe.WithClaim(time.Minute))
	}()
	t.Cleanup(func() { <-done })
	deadline := time.Now().Add(10 * time.Second) // the mark has no signal: poll
	for !inspect(t, srv, key).Watched {
		if time.Now().After(deadline) {
			t.Fatalf("no waiter marked the claim of %q", key)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return ran
}
