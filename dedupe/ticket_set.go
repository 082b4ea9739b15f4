package dedupe

// ticketSet is a set of a Batch's tickets with constant-time add, remove
// and membership, cheaper per message than a map: each ticket keeps its
// position in the set, in the field slot returns (0: not in the set,
// otherwise the index + 1). A ticket is in at most one set per slot.
// Caller holds b.mu.
type ticketSet[V any] struct {
	list []*Ticket[V]
	slot func(t *Ticket[V]) *int
}

func (s *ticketSet[V]) has(t *Ticket[V]) bool { return *s.slot(t) != 0 }

func (s *ticketSet[V]) len() int { return len(s.list) }

func (s *ticketSet[V]) add(t *Ticket[V]) {
	if s.has(t) {
		return
	}
	s.list = append(s.list, t)
	*s.slot(t) = len(s.list)
}

// remove takes t out of the set, moving the last ticket to its place.
func (s *ticketSet[V]) remove(t *Ticket[V]) {
	at := s.slot(t)
	if *at == 0 {
		return
	}
	i, last := *at-1, len(s.list)-1
	if i != last {
		s.list[i] = s.list[last]
		*s.slot(s.list[i]) = i + 1
	}
	s.list[last] = nil
	s.list = s.list[:last]
	*at = 0
}
