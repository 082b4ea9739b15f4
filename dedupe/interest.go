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

// send delivers e unless an earlier event is still unread. The caller holds
// the store's lock, and the store has not closed the channel.
func (w *watcher) send(e Event) {
	select {
	case w.events <- e:
	default:
	}
}
