package dedupe

import (
	"context"
	"sync"
	"time"
)

// MemoryStore is a Store inside one process, with the same semantics as
// redisstore.Store. It suits tests and single-process programs; it shares nothing
// between processes.
type MemoryStore struct {
	mu       sync.Mutex
	closed   bool
	records  map[string]memoryRecord
	watchers map[string]map[*Mailbox]struct{}
	now      func() time.Time
	frozen   time.Time       // while Exec runs: its ops share one reading of the clock
	writes   int             // since the last sweep of expired records
	kept     int             // records the last sweep left
	closing  context.Context // cancelled by Close: Done, AfterClose
	closeAll context.CancelFunc
}

// sweepEvery is the fewest writes between sweeps of expired records, so
// that keys nobody reads again do not pile up. A sweep visits every record,
// so sweeps are spaced by at least as many writes as there are records:
// the sweeping costs O(1) per write, amortised.
const sweepEvery = 1024

type memoryRecord struct {
	Record
	expires time.Time
}

var _ Store = (*MemoryStore)(nil)

// NewMemoryStore returns an empty MemoryStore.
func NewMemoryStore() *MemoryStore {
	s := &MemoryStore{
		records:  map[string]memoryRecord{},
		watchers: map[string]map[*Mailbox]struct{}{},
		now:      time.Now,
	}
	s.closing, s.closeAll = context.WithCancel(context.Background())
	return s
}

// Watch implements Store. Registration is immediate.
func (s *MemoryStore) Watch(ctx context.Context, key string) (Interest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrStoreClosed
	}
	w := NewMailbox(s.unwatch(key))
	if s.watchers[key] == nil {
		s.watchers[key] = map[*Mailbox]struct{}{}
	}
	s.watchers[key][w] = struct{}{}
	return w, nil
}

func (s *MemoryStore) unwatch(key string) func(*Mailbox) {
	return func(w *Mailbox) {
		s.mu.Lock()
		defer s.mu.Unlock()
		delete(s.watchers[key], w)
		if len(s.watchers[key]) == 0 {
			delete(s.watchers, key)
		}
	}
}

// ActiveInterests reports how many keys have at least one live Interest.
func (s *MemoryStore) ActiveInterests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.watchers)
}

// Get implements Store.
func (s *MemoryStore) Get(ctx context.Context, key string) (Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return Record{}, ErrStoreClosed
	}
	return s.get(key).Record, nil
}

// get returns the live record (with TTL left) or an Absent one. Caller holds mu.
func (s *MemoryStore) get(key string) memoryRecord {
	r, ok := s.records[key]
	if !ok {
		return memoryRecord{}
	}
	left := r.expires.Sub(s.clock())
	if left <= 0 {
		delete(s.records, key)
		return memoryRecord{}
	}
	r.TTL = left
	return r
}

// Commit implements Store.
func (s *MemoryStore) Commit(ctx context.Context, key string, c Commit) (Record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(c.Token); err != nil {
		return Record{}, false, err
	}
	return s.commit(key, c)
}

// commit is Commit under the lock.
func (s *MemoryStore) commit(key string, c Commit) (Record, bool, error) {
	cur := s.get(key)
	ttl := StoredDuration(c.TTL)
	switch {
	case cur.State == Committed && cur.Token == c.Token: // this commit, retried
		return Record{State: Committed, Value: cur.Value, Token: c.Token, TTL: ttl}, true, nil
	case cur.State == Absent: // free: unfenced, or a fenced claim expired and nobody took the key
	case !c.Fenced || cur.State != Claimed || cur.Token != c.Token:
		return cur.Record, false, nil
	}
	value := append([]byte(nil), c.Value...)
	s.wrote()
	s.records[key] = memoryRecord{Record: Record{State: Committed, Value: value, Token: c.Token}, expires: s.clock().Add(ttl)}
	s.notify(key, Event{Kind: EventCommit, Value: value, Token: c.Token})
	return Record{State: Committed, Value: value, Token: c.Token, TTL: ttl}, true, nil
}

// Claim implements Store.
func (s *MemoryStore) Claim(ctx context.Context, key, token string, lease time.Duration) (Record, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(token); err != nil {
		return Record{}, false, err
	}
	return s.claim(key, token, lease)
}

// claim is Claim under the lock.
func (s *MemoryStore) claim(key, token string, lease time.Duration) (Record, bool, error) {
	lease = StoredDuration(lease)
	if cur := s.get(key); cur.State != Absent && (cur.State != Claimed || cur.Token != token) {
		return cur.Record, false, nil
	}
	s.wrote()
	s.records[key] = memoryRecord{Record: Record{State: Claimed, Token: token}, expires: s.clock().Add(lease)}
	return Record{State: Claimed, Token: token, TTL: lease}, true, nil
}

// usable returns ErrStoreClosed after Close, or the token's validation
// error. Caller holds mu.
func (s *MemoryStore) usable(token string) error {
	if s.closed {
		return ErrStoreClosed
	}
	return CheckToken(token)
}

// Renew implements Store.
func (s *MemoryStore) Renew(ctx context.Context, key, token string, lease time.Duration) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(token); err != nil {
		return false, err
	}
	return s.renew(key, token, lease), nil
}

// Release implements Store.
func (s *MemoryStore) Release(ctx context.Context, key, token string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(token); err != nil {
		return false, err
	}
	return s.release(key, token), nil
}

// renew is Renew under the lock.
func (s *MemoryStore) renew(key, token string, lease time.Duration) bool {
	return s.withClaim(key, token, func(cur memoryRecord) {
		cur.expires = s.clock().Add(StoredDuration(lease))
		s.records[key] = cur
	})
}

// release is Release under the lock.
func (s *MemoryStore) release(key, token string) bool {
	return s.withClaim(key, token, func(memoryRecord) {
		delete(s.records, key)
		s.notify(key, Event{Kind: EventRelease})
	})
}

// withClaim calls f with the key's record if the key holds a live claim of
// token, and reports whether it did. Caller holds mu.
func (s *MemoryStore) withClaim(key, token string, f func(memoryRecord)) bool {
	cur := s.get(key)
	if cur.State != Claimed || cur.Token != token {
		return false
	}
	f(cur)
	return true
}

// wrote counts a write and sweeps expired records once as many writes as
// the last sweep left records (at least sweepEvery) have passed. Caller
// holds mu.
func (s *MemoryStore) wrote() {
	if s.writes++; s.writes < max(sweepEvery, s.kept) {
		return
	}
	s.writes = 0
	now := s.clock()
	for k, r := range s.records {
		if !r.expires.After(now) {
			delete(s.records, k)
		}
	}
	s.kept = len(s.records)
}

// notify sends e to every watcher of key. Caller holds mu.
func (s *MemoryStore) notify(key string, e Event) {
	for w := range s.watchers[key] {
		w.Send(e)
	}
}

// Done returns a channel that is closed when the store closes.
func (s *MemoryStore) Done() <-chan struct{} { return s.closing.Done() }

// AfterClose calls f in its own goroutine once the store closes (at once
// if it is closed), as context.AfterFunc does; stop undoes it, and reports
// whether that kept f from running. A claim-mode Run uses it to learn that
// its store closed.
func (s *MemoryStore) AfterClose(f func()) (stop func() bool) { return context.AfterFunc(s.closing, f) }

// Close implements Store.
func (s *MemoryStore) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	s.closeAll()
	for _, ws := range s.watchers {
		for w := range ws {
			w.End()
		}
	}
	return nil
}

var _ BatchStore = (*MemoryStore)(nil)

// clock is the time now, as Exec's ops see it. Caller holds mu.
func (s *MemoryStore) clock() time.Time {
	if !s.frozen.IsZero() {
		return s.frozen
	}
	return s.now()
}

// Exec implements BatchStore: every op runs under one lock, at one time.
func (s *MemoryStore) Exec(ctx context.Context, ops []Op) []OpResult {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frozen = s.now()
	defer func() { s.frozen = time.Time{} }()
	results := make([]OpResult, len(ops))
	for i, op := range ops {
		if op.Kind == OpGet {
			if s.closed {
				results[i].Err = ErrStoreClosed
			} else {
				results[i].Current = s.get(op.Key).Record
			}
			continue
		}
		if err := s.usable(op.Token); err != nil {
			results[i].Err = err
			continue
		}
		results[i] = s.execLocked(op)
	}
	return results
}

// execLocked runs one op. Caller holds mu.
func (s *MemoryStore) execLocked(op Op) OpResult {
	var r OpResult
	switch op.Kind {
	case OpClaim:
		r.Current, r.OK, r.Err = s.claim(op.Key, op.Token, op.Lease)
	case OpRenew:
		r.OK = s.renew(op.Key, op.Token, op.Lease)
	case OpCommit:
		r.Current, r.OK, r.Err = s.commit(op.Key, op.commit())
	case OpRelease:
		r.OK = s.release(op.Key, op.Token)
	default:
		r.Err = ErrUnknownOp
	}
	return r
}
