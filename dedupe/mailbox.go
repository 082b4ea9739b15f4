package dedupe

import "sync"

// Mailbox is the Interest both stores hand out, exported for store
// writers: a one-slot mailbox that the store fills without ever blocking
// (Send), and ends (End) when the store closes. Its coalescing rule is part
// of the seam: the guard relies on never missing a commit.
type Mailbox struct {
	events  chan Event
	once    sync.Once
	release func(*Mailbox)
}

// NewMailbox returns an empty mailbox; Close calls release once, for the
// store to forget the mailbox.
func NewMailbox(release func(*Mailbox)) *Mailbox {
	return &Mailbox{events: make(chan Event, 1), release: release}
}

// Events implements Interest.
func (m *Mailbox) Events() <-chan Event { return m.events }

// Close implements Interest: it calls release, once.
func (m *Mailbox) Close() { m.once.Do(func() { m.release(m) }) }

// Send delivers e without ever blocking. The mailbox coalesces: every event
// other than a commit only means "re-read the key", so one unread event of
// that kind stands for any number; a commit replaces an unread one of them,
// so that a commit is never lost behind a release or resync. The caller
// holds the store's lock, and has not called End.
func (m *Mailbox) Send(e Event) {
	select {
	case m.events <- e:
		return
	default:
	}
	if e.Kind != EventCommit {
		return
	}
	select {
	case <-m.events: // an unread event of the re-read kind (or an earlier commit)
	default:
	}
	select {
	case m.events <- e:
	default:
	}
}

// End closes the Events channel: the store closed. The caller holds the
// store's lock and calls it once, after its last Send.
func (m *Mailbox) End() { close(m.events) }
