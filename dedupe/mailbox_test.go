package dedupe_test

import (
	"testing"

	"github.com/idemq/idemq/dedupe"
)

func TestMailboxKeepsCommitOverRereadEvents(t *testing.T) {
	t.Parallel()
	for _, first := range []dedupe.EventKind{dedupe.EventRelease, dedupe.EventResync} {
		w := dedupe.NewMailbox(func(*dedupe.Mailbox) {})
		w.Send(dedupe.Event{Kind: first})
		w.Send(dedupe.Event{Kind: dedupe.EventResync})
		w.Send(dedupe.Event{Kind: dedupe.EventCommit, Value: []byte("v")})
		w.Send(dedupe.Event{Kind: dedupe.EventRelease})
		if got := <-w.Events(); got.Kind != dedupe.EventCommit || string(got.Value) != "v" {
			t.Errorf("after %v, resync, commit, release: read %+v, want the commit", first, got)
		}
		select {
		case got := <-w.Events():
			t.Errorf("a second event %+v is waiting, want one coalesced event", got)
		default:
		}
	}
}
