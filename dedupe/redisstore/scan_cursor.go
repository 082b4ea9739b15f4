package redisstore

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
)

// scanPos is where a scan stands: on the master at addr ("" on a single
// node), at the page of SCAN cursor, past the keys of that page up to the
// one whose order is after ("": none yet), a page whose SCAN call answered
// next as its next cursor. A page is rescanned from its cursor when a call
// stopped in its middle (at ScanOptions.Limit), and its keys are taken in
// order, so no key is returned twice or skipped. SCAN's COUNT counts the
// keys of every prefix, so with other writers (or a resize) the rescan may
// cover other slots of the key space than the first call did: its next
// cursor then differs, and the whole page is taken again rather than a key
// skipped (some are then returned twice, as SCAN itself may).
type scanPos struct {
	addr   string
	cursor uint64
	after  string
	next   uint64 // with after: the next cursor of the page it cut
}

// String encodes the position as a ScanPage.Cursor:
// <cursor>[.<after>.<next>][@<addr>].
func (p scanPos) String() string {
	s := strconv.FormatUint(p.cursor, 10)
	if p.after != "" {
		s += "." + p.after + "." + strconv.FormatUint(p.next, 10)
	}
	if p.addr != "" {
		s += "@" + p.addr
	}
	return s
}

// parseScanPos reads a ScanPage.Cursor; "" is the start.
func parseScanPos(cursor string) (scanPos, error) {
	var p scanPos
	if cursor == "" {
		return p, nil
	}
	s, addr, at := strings.Cut(cursor, "@")
	s, rest, dot := strings.Cut(s, ".")
	after, nextText, _ := strings.Cut(rest, ".")
	n, err := strconv.ParseUint(s, 10, 64)
	_, herr := strconv.ParseUint(after, 16, 64)
	next, nerr := strconv.ParseUint(nextText, 10, 64)
	if err != nil || (at && addr == "") || (dot && (herr != nil || len(after) != 16 || nerr != nil)) {
		return p, fmt.Errorf("%w: scan cursor %q: not one a Scan returned", dedupe.ErrInvalidOption, cursor)
	}
	return scanPos{addr: addr, cursor: n, after: after, next: next}, nil
}

// order is a record key's place among the keys of one SCAN page.
func order(rk string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(rk))
	return fmt.Sprintf("%016x", h.Sum64())
}

// scanNode is one master that a scan walks.
type scanNode struct {
	addr   string // "" on a single node
	client *redis.Client
}

// masters returns the masters to scan, in a stable order: the one node, or
// every master of a Cluster by address.
func (s *Store) masters(ctx context.Context) ([]scanNode, error) {
	switch c := s.client.(type) {
	case *redis.Client:
		return []scanNode{{client: c}}, nil
	case *redis.ClusterClient:
		var mu sync.Mutex
		var nodes []scanNode
		err := c.ForEachMaster(ctx, func(ctx context.Context, m *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			nodes = append(nodes, scanNode{addr: m.Options().Addr, client: m})
			return nil
		})
		slices.SortFunc(nodes, func(a, b scanNode) int { return strings.Compare(a.addr, b.addr) })
		return nodes, err
	}
	return nil, fmt.Errorf("%w: scanning needs a *redis.Client or *redis.ClusterClient, not %T", dedupe.ErrInvalidOption, s.client)
}

// errCursorNode is a cursor that names a master the Cluster no longer has.
var errCursorNode = errors.New("the cursor's master is not a master of this Redis now (failover or resharding): start the scan again")
