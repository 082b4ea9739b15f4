package main

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testenv"
)

func TestForget(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv testenv.RedisServer) {
		commit(t, srv, "order-1", "receipt-1")
		stuckClaims(t, srv, time.Minute, "busy")
		declined := on(t, srv, "no\n", "forget", "order-1")
		declined.want(t, exitFailure)
		declined.wantErr(t, "Forget the value of order-1, committed by token")
		if got := inspect(t, srv, "order-1"); got.State != dedupe.Committed {
			t.Fatalf("after a declined forget: %+v", got)
		}
		r := on(t, srv, "", "-json", "forget", "order-1", "-y")
		r.want(t, exitOK)
		var v forgetView
		if err := json.Unmarshal([]byte(r.out), &v); err != nil || !v.Forgotten || v.Token == "" {
			t.Errorf("forget -json = %q (%v), want forgotten", r.out, err)
		}
		runs := 0
		_, err := dedupe.Run(context.Background(), newStore(t, srv), "order-1", func(ctx context.Context, end dedupe.End[string]) (int, error) {
			runs++
			end("receipt-2")
			return 0, nil
		}, dedupe.WithClaim(time.Minute))
		if err != nil || runs != 1 {
			t.Errorf("Run after forget = %v with %d runs, want the handler to run again", err, runs)
		}
		on(t, srv, "y\n", "forget", "order-1").want(t, exitOK, "forgot the value of order-1")
		on(t, srv, "", "forget", "order-1", "-y").want(t, exitState)
		claimed := on(t, srv, "", "forget", "busy", "-y")
		claimed.want(t, exitState)
		claimed.wantErr(t, "the key is claimed by token")
	})
}

// TestForgetIsFencedOnShownValue changes the key while the question (which
// names the committing run's token) waits for its answer: the value shown
// is forgotten and another run commits. The forget answered "y" must not
// delete that other value: exit 3, nothing forgotten.
func TestForgetIsFencedOnShownValue(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv testenv.RedisServer) {
		commit(t, srv, "k", "first")
		shown := inspect(t, srv, "k").Token
		s := newStore(t, srv)
		recommit := func() {
			if ok, err := s.Forget(context.Background(), "k"); !ok || err != nil {
				t.Errorf("Forget of the shown value = %v, %v", ok, err)
			}
			commit(t, srv, "k", "second")
		}
		r := onReading(t, srv, answerAfter(recommit, "y\n"), "forget", "k")
		r.want(t, exitState)
		r.wantErr(t, `Forget the value of k, committed by token "`+shown+`"`)
		r.wantErr(t, "nothing was forgotten")
		if got := inspect(t, srv, "k"); got.State != dedupe.Committed || got.Token == shown || string(got.Value) != `"second"` {
			t.Errorf("after the answered forget: %+v, want the second run's value", got)
		}
	})
}
