package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
)

// ScanOptions say what Store.Scan lists. The zero value lists every
// key, 100 at a time, in at most 1,000 SCAN calls of COUNT 1,000 per call.
type ScanOptions struct {
	// Cursor resumes the scan where a previous call's ScanPage.Cursor left
	// off; "" starts at the beginning.
	Cursor string
	// State keeps only the keys in this state, Claimed or Committed. Absent
	// (the zero value) keeps every record, and those that are none of ours
	// (KeyInfo.Err).
	State dedupe.State
	// Match keeps only the user keys that match this glob, in Redis's syntax
	// ('*', '?', '[abc]', '[a-z]', '[^abc]', '\' escapes), byte by byte;
	// "" keeps every key.
	Match string
	// Limit is the most keys one call returns; 0 means 100.
	Limit int
	// Count is SCAN's COUNT hint: how many keys each SCAN call examines,
	// roughly (of the whole database: other prefixes' keys too); 0 means
	// 1,000.
	Count int
	// MaxScans is the most SCAN calls one call makes (on a Cluster, all
	// masters' together), so that a filter that matches little still
	// returns within a bound, perhaps with fewer keys than Limit (or none)
	// and a Cursor to go on with; 0 means 1,000.
	MaxScans int
}

// ScanPage is one call's share of a scan.
type ScanPage struct {
	// Keys are the keys found, in no particular order. Their Value is nil:
	// Inspect reads it.
	Keys []KeyInfo
	// Cursor is "" once the scan is complete; otherwise pass it back in
	// ScanOptions.Cursor (with the same other options) for the next page.
	Cursor string
}

// Scan lists the keys under the store's prefix, a page per call, with
// Redis's SCAN (never KEYS): on a Cluster on every master, one after the
// other, by address. Each key's record, remaining lease or TTL is read in
// one atomic step (a read-only script per key, pipelined per SCAN page);
// committed values are not transferred. Other keys under the prefix
// (another application's, or none of this layout) are skipped.
//
// As with SCAN, a key that exists for the whole scan is returned, once
// unless the server resizes its key space meanwhile, or other keys are
// written or deleted while a page that Limit cut is resumed (a key may then
// come twice: tolerate duplicates); one created, deleted or changed
// meanwhile may or may not be.
func (s *Store) Scan(ctx context.Context, opts ScanOptions) (ScanPage, error) {
	o, err := scanDefaults(opts)
	if err != nil {
		return ScanPage{}, err
	}
	sc, err := s.newScanner(ctx, o.Cursor, o.Count)
	if err != nil {
		return ScanPage{}, err
	}
	var page ScanPage
	for !sc.done() && sc.scans < o.MaxScans && len(page.Keys) < o.Limit {
		names, next, err := sc.scan(ctx)
		if err != nil {
			return ScanPage{}, err
		}
		after := sc.pos.after
		if next != sc.pos.next {
			after = "" // the rescan covers other slots than the page it resumes: take it whole
		}
		infos, err := s.scanInfos(ctx, names, o, after)
		if err != nil {
			return ScanPage{}, err
		}
		if room := o.Limit - len(page.Keys); len(infos) > room {
			page.Keys = append(page.Keys, infos[:room]...)
			sc.pos.after, sc.pos.next = order(infos[room-1].RecordKey), next // rescan this page next time
			break
		}
		page.Keys = append(page.Keys, infos...)
		sc.advance(next)
	}
	page.Cursor = sc.cursor()
	return page, nil
}

// Check reports options that Scan refuses (ErrInvalidOption): a negative
// Limit, Count or MaxScans, an unknown State, a malformed Match glob, or a
// Cursor that is not of the form Scan returns. It needs no connection, so
// that a command line can check its arguments before it connects; a
// well-formed Cursor of another server or prefix is found out by Scan.
func (o ScanOptions) Check() error {
	switch {
	case o.Limit < 0, o.Count < 0, o.MaxScans < 0:
		return fmt.Errorf("%w: ScanOptions Limit, Count and MaxScans must be >= 0", dedupe.ErrInvalidOption)
	case o.State != dedupe.Absent && o.State != dedupe.Claimed && o.State != dedupe.Committed:
		return fmt.Errorf("%w: ScanOptions.State %v", dedupe.ErrInvalidOption, o.State)
	}
	if _, err := parseScanPos(o.Cursor); err != nil {
		return err
	}
	return checkGlob(o.Match)
}

func scanDefaults(o ScanOptions) (ScanOptions, error) {
	if err := o.Check(); err != nil {
		return o, err
	}
	o.Limit, o.Count, o.MaxScans = orDefault(o.Limit, 100), orDefault(o.Count, 1000), orDefault(o.MaxScans, 1000)
	return o, nil
}

func orDefault(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

// scanInfos reads the keys of one SCAN page that pass o's filters, past
// after, sorted by order.
func (s *Store) scanInfos(ctx context.Context, names []string, o ScanOptions, after string) ([]KeyInfo, error) {
	var keys, rks, orders []string
	for _, rk := range names {
		k, ok := s.userKey(rk)
		if !ok || o.Match != "" && !globMatch(o.Match, k) {
			continue
		}
		if ord := order(rk); ord > after {
			keys, rks, orders = append(keys, k), append(rks, rk), append(orders, ord)
		}
	}
	replies, err := s.inspectMany(ctx, rks, false)
	if err != nil {
		return nil, s.scanErr(err)
	}
	type ordered struct {
		order string
		info  KeyInfo
	}
	var kept []ordered
	for i, reply := range replies {
		info, err := readInspect(keys[i], rks[i], reply, true)
		info.Err = err
		if keep(info, o.State) {
			kept = append(kept, ordered{orders[i], info})
		}
	}
	slices.SortFunc(kept, func(a, b ordered) int { return strings.Compare(a.order, b.order) })
	var infos []KeyInfo
	for _, k := range kept {
		infos = append(infos, k.info)
	}
	return infos, nil
}

// keep reports whether a scanned key passes the state filter; a key gone
// since SCAN listed it never does.
func keep(info KeyInfo, state dedupe.State) bool {
	if info.Err != nil {
		return state == dedupe.Absent
	}
	return info.State != dedupe.Absent && (state == dedupe.Absent || info.State == state)
}

// userKey is the key whose record recordKey stores at rk, if rk is one (in
// either layout); anything else under the prefix is not.
func (s *Store) userKey(rk string) (string, bool) {
	rest, ok := strings.CutPrefix(rk, s.prefix)
	if !ok || !strings.HasPrefix(rest, "{") {
		return "", false
	}
	var candidates []string
	if strings.HasSuffix(rest, "}") {
		candidates = append(candidates, rest[1:len(rest)-1]) // {K}
	}
	if i := strings.Index(rest, "}:"); strings.HasPrefix(rest, "{#") && i > 0 {
		candidates = append(candidates, rest[i+2:]) // {#H}:K
	}
	for _, k := range candidates {
		if k != "" && s.recordKey(k) == rk {
			return k, true
		}
	}
	return "", false
}

// headLen is how much of a stored string Scan and Stats read: enough for a
// claim or a committed record's token and the ':' after it.
const headLen = dedupe.MaxTokenLen + 2

// inspectMany runs the inspect script on every record key of rks in one
// pipeline (reading only headLen bytes of each string), loading the script
// if the server does not have it. Its error is Redis's own.
func (s *Store) inspectMany(ctx context.Context, rks []string, memory bool) ([][]any, error) {
	if len(rks) == 0 {
		return nil, nil
	}
	replies, err := s.inspectPipeline(ctx, rks, memory)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		if err := inspectScript.Load(ctx, s.client).Err(); err != nil {
			return nil, err
		}
		replies, err = s.inspectPipeline(ctx, rks, memory)
	}
	return replies, err
}

func (s *Store) inspectPipeline(ctx context.Context, rks []string, memory bool) ([][]any, error) {
	mem := 0
	if memory {
		mem = 1
	}
	cmds := make([]*redis.Cmd, len(rks))
	if _, err := s.client.Pipelined(ctx, func(pipe redis.Pipeliner) error {
		for i, rk := range rks {
			cmds[i] = inspectScript.EvalShaRO(ctx, pipe, []string{rk}, headLen, mem)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	replies := make([][]any, len(rks))
	for i, cmd := range cmds {
		var err error
		if replies[i], err = cmd.Slice(); err != nil {
			return nil, err
		}
	}
	return replies, nil
}
