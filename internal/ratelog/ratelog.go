// Package ratelog keeps a logger from flooding: warnings and errors that
// repeat are passed on at most once per interval, with a count of those
// held back. The adapters wrap their Logger with it, so that a Redis outage
// or a stuck partition is logged without one line per message per retry.
package ratelog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// DefaultInterval is the least time between two records with one message.
const DefaultInterval = 10 * time.Second

// Handler is a slog.Handler that passes records below slog.LevelWarn on as
// they are, and records at Warn or above at most once per interval per
// message (its text); the next one passed carries "suppressed": the number
// held back meanwhile. Handlers derived with WithAttrs or WithGroup share
// the limit.
type Handler struct {
	next  slog.Handler
	every time.Duration
	seen  *seen
}

type seen struct {
	mu sync.Mutex
	by map[string]*entry
}

type entry struct {
	last       time.Time
	suppressed int
}

// New wraps next; every <= 0 means DefaultInterval.
func New(next slog.Handler, every time.Duration) *Handler {
	if every <= 0 {
		every = DefaultInterval
	}
	return &Handler{next: next, every: every, seen: &seen{by: map[string]*entry{}}}
}

// Logger returns l (slog.Default() when nil) with its handler wrapped.
func Logger(l *slog.Logger, every time.Duration) *slog.Logger {
	if l == nil {
		l = slog.Default()
	}
	return slog.New(New(l.Handler(), every))
}

func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return h.next.Handle(ctx, r)
	}
	n, pass := h.seen.admit(r.Message, r.Time, h.every)
	if !pass {
		return nil
	}
	if n > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed", n))
	}
	return h.next.Handle(ctx, r)
}

// admit reports whether a record with msg at t passes, and how many were
// held back since the last one that did.
func (s *seen) admit(msg string, t time.Time, every time.Duration) (int, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.by[msg]
	if e == nil {
		s.by[msg] = &entry{last: t}
		return 0, true
	}
	if t.Sub(e.last) < every {
		e.suppressed++
		return 0, false
	}
	n := e.suppressed
	e.last, e.suppressed = t, 0
	return n, true
}

func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(attrs), every: h.every, seen: h.seen}
}

func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), every: h.every, seen: h.seen}
}
