package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

// isolated gives a test a keyspace of its own where the server has more
// than one: on a standalone server, database 1 (deleting the test's keys
// there at cleanup), so that a small SCAN COUNT pages through this test's
// keys, not through every key that other tests and benchmarks keep in
// database 0. A Cluster has one database, which the tests share. It
// returns a constructor of stores on that keyspace, and a plain client.
func isolated(t *testing.T, srv testenv.RedisServer) (open func() *redisstore.Store, raw redis.UniversalClient) {
	t.Helper()
	newClient := srv.NewClient
	if !srv.Cluster {
		newClient = func(t testing.TB) redis.UniversalClient {
			c := redis.NewClient(&redis.Options{Addr: srv.Addrs[0], DB: 1})
			t.Cleanup(func() { _ = c.Close() })
			return c
		}
		raw = newClient(t)
		t.Cleanup(func() { deleteUnder(t, raw.(*redis.Client), srv.Prefix) })
	}
	open = func() *redisstore.Store {
		s, err := redisstore.New(newClient(t), redisstore.WithPrefix(srv.Prefix))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	if raw == nil {
		raw = srv.Client
	}
	return open, raw
}

func deleteUnder(t *testing.T, c *redis.Client, prefix string) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for iter.Next(ctx) {
		c.Del(ctx, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("deleting keys under %q: %v", prefix, err)
	}
}

// scanAll pages through a whole scan and fails on a key returned twice in
// two scans in a row. SCAN itself may return a key twice while the server
// resizes its key space (other tests share the server), but not in two
// scans running one after the other; a cursor that resumes a page wrongly
// repeats a key every time.
func scanAll(t *testing.T, s *redisstore.Store, opts redisstore.ScanOptions) (keys map[string]redisstore.KeyInfo, pages int) {
	t.Helper()
	keys, pages, dup := scanOnce(t, s, opts)
	if dup != "" {
		t.Logf("key %q returned twice (a resize of the key space?): scanning again", dup)
		if keys, pages, dup = scanOnce(t, s, opts); dup != "" {
			t.Fatalf("key %q returned twice in two scans in a row", dup)
		}
	}
	return keys, pages
}

// scanOnce pages through a whole scan; dup is a key it returned twice.
func scanOnce(t *testing.T, s *redisstore.Store, opts redisstore.ScanOptions) (keys map[string]redisstore.KeyInfo, pages int, dup string) {
	t.Helper()
	keys = map[string]redisstore.KeyInfo{}
	for pages < 100_000 {
		page, err := s.Scan(adminContext(t), opts)
		if err != nil {
			t.Fatalf("Scan(%+v): %v", opts, err)
		}
		pages++
		if opts.Limit > 0 && len(page.Keys) > opts.Limit {
			t.Fatalf("a page of %d keys, want at most Limit %d", len(page.Keys), opts.Limit)
		}
		for _, k := range page.Keys {
			if _, seen := keys[k.Key]; seen && dup == "" {
				dup = k.Key
			}
			keys[k.Key] = k
		}
		if opts.Cursor = page.Cursor; opts.Cursor == "" {
			return keys, pages, dup
		}
	}
	t.Fatalf("the scan did not end within %d pages", pages)
	return nil, 0, ""
}

// scanFixture fills a keyspace with stuck claims, committed values (keys
// with braces among both), a corrupt record and names of other layouts.
func scanFixture(t *testing.T, open func() *redisstore.Store, raw redis.UniversalClient, prefix string) (claimed, committed []string) {
	t.Helper()
	for i := range 15 {
		claimed = append(claimed, fmt.Sprintf("c-%d", i))
		committed = append(committed, fmt.Sprintf("v-%d", i))
	}
	claimed = append(claimed, "c{braced}", "{c}")
	committed = append(committed, "v{braced}", "orders/1")
	stuckClaims(t, open(), time.Minute, claimed...)
	s := open()
	for _, k := range committed {
		commitValue(t, s, k, k)
	}
	ctx := adminContext(t)
	must(t, raw.Set(ctx, prefix+"{corrupt}", "not a record", time.Minute).Err())
	for _, name := range []string{"other", "{k}:events", "{}", "{#0011223344556677}:plain"} {
		must(t, raw.Set(ctx, prefix+name, "Vforeign:x", time.Minute).Err())
	}
	return claimed, committed
}

func TestScanPagesEveryKeyOnce(t *testing.T) {
	t.Parallel()
	forEachAdminServer(t, func(t *testing.T, srv testenv.RedisServer) {
		open, raw := isolated(t, srv)
		claimed, committed := scanFixture(t, open, raw, srv.Prefix)
		s := open()
		want := append(append([]string{"corrupt"}, claimed...), committed...)
		slices.Sort(want)
		for _, o := range []redisstore.ScanOptions{
			{Count: 5, Limit: 7},    // several SCAN calls per page
			{Count: 50, Limit: 7},   // pages that end inside a SCAN page
			{Count: 5, MaxScans: 1}, // one SCAN call per page
			{},
		} {
			got, pages := scanAll(t, s, o)
			if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, want) {
				t.Errorf("Scan(%+v) found %q, want %q", o, keys, want)
			}
			if o.Limit == 7 && pages < 2 {
				t.Errorf("Scan(%+v) took %d pages for %d keys, want several", o, pages, len(want))
			}
			var de *dedupe.DecodeError
			if c := got["corrupt"]; !errors.As(c.Err, &de) {
				t.Errorf("corrupt record: %+v, want a *DecodeError in Err", c)
			}
			for _, k := range claimed {
				if got[k].State != dedupe.Claimed || got[k].TTL <= 0 || got[k].Token == "" {
					t.Errorf("%q: %+v, want a claim with its lease", k, got[k])
				}
			}
			for _, k := range committed {
				if got[k].State != dedupe.Committed || got[k].Value != nil {
					t.Errorf("%q: %+v, want Committed with no value read", k, got[k])
				}
			}
		}
	})
}

func TestScanFilters(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv testenv.RedisServer) {
		open, raw := isolated(t, srv)
		claimed, committed := scanFixture(t, open, raw, srv.Prefix)
		s := open()
		for _, c := range []struct {
			opts redisstore.ScanOptions
			want []string
		}{
			{redisstore.ScanOptions{State: dedupe.Claimed, Count: 10, Limit: 4}, claimed},
			{redisstore.ScanOptions{State: dedupe.Committed, Count: 10, Limit: 4}, committed},
			{redisstore.ScanOptions{Match: "c-1*"}, []string{"c-1", "c-10", "c-11", "c-12", "c-13", "c-14"}},
			{redisstore.ScanOptions{Match: "*{*"}, []string{"c{braced}", "v{braced}", "{c}"}},
			{redisstore.ScanOptions{Match: "orders/*", State: dedupe.Committed}, []string{"orders/1"}},
			{redisstore.ScanOptions{Match: "v-*", State: dedupe.Claimed}, nil},
		} {
			got, _ := scanAll(t, s, c.opts)
			keys := slices.Sorted(maps.Keys(got))
			if want := slices.Sorted(slices.Values(c.want)); !slices.Equal(keys, want) {
				t.Errorf("Scan(%+v) found %q, want %q", c.opts, keys, want)
			}
		}
	})
}

func TestScanRejectsBadOptions(t *testing.T) {
	t.Parallel()
	s := newStore(t, testenv.Redis(t))
	for _, o := range []redisstore.ScanOptions{
		{Cursor: "nonsense"},
		{Cursor: "0@127.0.0.1:1"}, // a master this Redis does not have
		{Match: "[unclosed"},
		{Limit: -1},
		{State: dedupe.State(7)},
	} {
		if _, err := s.Scan(adminContext(t), o); !errors.Is(err, dedupe.ErrInvalidOption) {
			t.Errorf("Scan(%+v) = %v, want ErrInvalidOption", o, err)
		}
	}
}

// TestScanOptionsCheck: what Check refuses needs no connection; a
// well-formed cursor of a master this Redis does not have is Scan's to
// find out.
func TestScanOptionsCheck(t *testing.T) {
	t.Parallel()
	for _, o := range []redisstore.ScanOptions{
		{Cursor: "nonsense"},
		{Cursor: "7@"},
		{Cursor: "7.12"},
		{Match: "[unclosed"},
		{Limit: -1},
		{State: dedupe.State(7)},
	} {
		if err := o.Check(); !errors.Is(err, dedupe.ErrInvalidOption) {
			t.Errorf("ScanOptions%+v.Check() = %v, want ErrInvalidOption", o, err)
		}
	}
	for _, o := range []redisstore.ScanOptions{{}, {Cursor: "0@127.0.0.1:1", Match: "order-*", State: dedupe.Claimed}} {
		if err := o.Check(); err != nil {
			t.Errorf("ScanOptions%+v.Check() = %v, want nil", o, err)
		}
	}
}

// TestScanResumesAfterKeySpaceChange: SCAN's COUNT counts every key of the
// database, so when other keys go away between two pages, the rescan of a
// page that Limit cut covers more of the key space than the first call
// did. No key of ours may be skipped then (some may come twice, as SCAN
// allows). A database of its own: 300 keys of ours among 3,000 others, so
// that a SCAN call of COUNT 50 finds a few of ours and a page of one key
// cuts it; the others are deleted after the first page.
func TestScanResumesAfterKeySpaceChange(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	client := redis.NewClient(&redis.Options{Addr: srv.Addrs[0], DB: 2})
	t.Cleanup(func() { _ = client.Close() })
	ctx := adminContext(t)
	s, err := redisstore.New(client, redisstore.WithPrefix(srv.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	t.Cleanup(func() { deleteUnder(t, client, srv.Prefix) })
	const ours, others = 300, 3000
	want := make([]string, ours)
	for i := range want {
		want[i] = fmt.Sprintf("k-%03d", i)
		if _, err := dedupe.Run(ctx, s, want[i], func(ctx context.Context, end dedupe.End[int]) (int, error) {
			end(i)
			return i, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	other := srv.Prefix + "other:"
	if _, err := client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i := range others {
			p.Set(ctx, other+strconv.Itoa(i), "x", time.Minute)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	opts := redisstore.ScanOptions{Limit: 1, Count: 50}
	for pages := 0; ; pages++ {
		page, err := s.Scan(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range page.Keys {
			got[k.Key] = true
		}
		if pages == 0 && len(got) > 0 { // the first page cut a SCAN call's keys: the others go now
			if _, err := client.Pipelined(ctx, func(p redis.Pipeliner) error {
				for i := range others {
					p.Del(ctx, other+strconv.Itoa(i))
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		if page.Cursor == "" || pages > 10*ours {
			break
		}
		opts.Cursor = page.Cursor
	}
	var missed []string
	for _, k := range want {
		if !got[k] {
			missed = append(missed, k)
		}
	}
	if len(missed) > 0 {
		t.Errorf("keys never returned: %d of %d: %q", len(missed), ours, missed)
	}
}
