package startgate_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/idemq/idemq/internal/startgate"
	"github.com/idemq/idemq/internal/testenv"
	"github.com/idemq/idemq/internal/testwait"
)

func TestMain(m *testing.M) { testenv.Main(m) }

var errLate = errors.New("late")

func TestStartBeforeTheBound(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	g := startgate.New(time.Hour, cancel, errLate)
	defer g.Stop()
	if !g.Start() {
		t.Fatal("Start = false before the bound")
	}
	if g.Expired() || ctx.Err() != nil {
		t.Errorf("Expired = %v, ctx = %v after Start; want false, nil", g.Expired(), ctx.Err())
	}
}

func TestBoundCancelsWorkNotStarted(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	g := startgate.New(time.Millisecond, cancel, errLate)
	defer g.Stop()
	testwait.Recv(t, ctx.Done(), "the gate to cancel the run")
	if cause := context.Cause(ctx); !errors.Is(cause, errLate) {
		t.Errorf("cause = %v, want the gate's", cause)
	}
	if started := g.Start(); !g.Expired() || started {
		t.Errorf("Expired = %v, Start = %v after the bound; want true, false", g.Expired(), started)
	}
}

func TestZeroGateNeverExpires(t *testing.T) {
	var g startgate.Gate
	if !g.Start() || g.Expired() {
		t.Errorf("zero Gate: Start = false or Expired = true")
	}
	g.Stop()
}
