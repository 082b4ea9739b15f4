package dedupe

import "sync"

// watcher is the Interest both stores hand out: a one-slot mailbox that the
// store fills without ever blocking, and closes when the store closes.
type watcher struct {
	events  chan Event
	once    sync.Once
	release func(*watcher)
}

func newWatcher(release func(*watcher)) *watcher {
	return &watcher{events: make(chan Event, 1), release: release}
}

func (w *watcher) Events() <-chan Event { return w.events }

func (w *watcher) Close() { w.once.Do(func() { w.release(w) }) }

// send delivers e without ever blocking. The mailbox coalesces: every event
// other than a commit only means "re-read the key", so one unread event of
// that kind stands for any number; a commit replaces an unread one of them,
// so that a commit is never lost behind a release or resync. The caller
// holds the store's lock, and the store has not closed the channel.
func (w *watcher) send(e Event) {
	select {
	case w.events <- e:
		return
	default:
	}
	if e.Kind != EventCommit {
		return
	}
	select {
	case <-w.events: // an unread event of the re-read kind (or an earlier commit)
	default:
	}
	select {
	case w.events <- e:
	default:
	}
}
