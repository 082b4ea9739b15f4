package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/idemq/idemq/dedupe"
)

// scanner walks the masters of a store with SCAN, one page per call of
// scan, from a position a cursor names.
type scanner struct {
	store *Store
	nodes []scanNode
	i     int // the master at pos; len(nodes) once every master is done
	pos   scanPos
	match string // SCAN's MATCH: every record key of the prefix
	count int
	scans int // SCAN calls made
}

// newScanner starts at cursor (a ScanPage.Cursor; "" is the start).
func (s *Store) newScanner(ctx context.Context, cursor string, count int) (*scanner, error) {
	if s.sub.isClosed() {
		return nil, dedupe.ErrStoreClosed
	}
	pos, err := parseScanPos(cursor)
	if err != nil {
		return nil, err
	}
	nodes, err := s.masters(ctx)
	if err != nil {
		return nil, s.scanErr(err)
	}
	sc := &scanner{store: s, nodes: nodes, pos: pos, match: globEscape(s.prefix) + "{*", count: count}
	if cursor == "" {
		if len(nodes) > 0 {
			sc.pos.addr = nodes[0].addr
		}
		return sc, nil
	}
	for sc.i < len(nodes) && nodes[sc.i].addr != pos.addr {
		sc.i++
	}
	if sc.i == len(nodes) {
		return nil, fmt.Errorf("%w: scan cursor %q: %v", dedupe.ErrInvalidOption, cursor, errCursorNode)
	}
	return sc, nil
}

func (sc *scanner) done() bool { return sc.i == len(sc.nodes) }

// scan SCANs the page at the current position: the names it lists and the
// cursor of the page after it (0: the master is done).
func (sc *scanner) scan(ctx context.Context) ([]string, uint64, error) {
	sc.scans++
	names, next, err := sc.nodes[sc.i].client.Scan(ctx, sc.pos.cursor, sc.match, int64(sc.count)).Result()
	if err != nil {
		return nil, 0, sc.store.scanErr(err)
	}
	return names, next, nil
}

// advance moves past the current page to the page at next, or to the next
// master's first page.
func (sc *scanner) advance(next uint64) {
	sc.pos = scanPos{addr: sc.nodes[sc.i].addr, cursor: next}
	if next == 0 {
		if sc.i++; !sc.done() {
			sc.pos = scanPos{addr: sc.nodes[sc.i].addr}
		}
	}
}

// cursor is the ScanPage.Cursor of the current position; "" when done.
func (sc *scanner) cursor() string {
	if sc.done() {
		return ""
	}
	return sc.pos.String()
}

// scanErr is the error of a failed scan: a context error as it is.
func (s *Store) scanErr(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("dedupe: scanning the keys under %q: %w", s.prefix, err)
}

// globEscape quotes s for a Redis glob: it matches itself only.
func globEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`*?[]\`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
