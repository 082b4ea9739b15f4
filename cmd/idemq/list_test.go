package main

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/idemq/idemq/internal/testenv"
)

// listAll follows list's -json cursor until the scan is complete.
func listAll(t *testing.T, srv testenv.RedisServer, args ...string) (states map[string]string, pages int) {
	t.Helper()
	states = map[string]string{}
	cursor := ""
	for pages < 1000 {
		r := on(t, srv, "", append([]string{"-json", "list", "--cursor", cursor}, args...)...)
		r.want(t, exitOK)
		var page pageView
		if err := json.Unmarshal([]byte(r.out), &page); err != nil {
			t.Fatalf("%v in %q", err, r.out)
		}
		pages++
		for _, k := range page.Keys {
			if _, dup := states[k.Key]; dup {
				t.Fatalf("%q listed twice", k.Key)
			}
			states[k.Key] = k.State
		}
		if page.Complete != (page.Cursor == "") {
			t.Fatalf("page %+v: complete and cursor disagree", page)
		}
		if cursor = page.Cursor; cursor == "" {
			return states, pages
		}
	}
	t.Fatalf("list did not complete within %d pages", pages)
	return nil, 0
}

func TestList(t *testing.T) {
	t.Parallel()
	forEachServer(t, func(t *testing.T, srv testenv.RedisServer) {
		claimed := []string{"c-1", "c-2", "c{3}"}
		committed := []string{"v-1", "v-2", "v{3}", "v 4"}
		stuckClaims(t, srv, time.Minute, claimed...)
		for _, k := range committed {
			commit(t, srv, k, k)
		}
		all := append(slices.Clone(claimed), committed...)
		for _, c := range []struct {
			args []string
			want []string
		}{
			{[]string{"--limit", "2"}, all},
			{[]string{"--claimed", "--limit", "2"}, claimed},
			{[]string{"--committed"}, committed},
			{[]string{"--match", "*{3}"}, []string{"c{3}", "v{3}"}},
			{[]string{"--match", "v-*", "--claimed"}, nil},
		} {
			states, pages := listAll(t, srv, c.args...)
			if got, want := slices.Sorted(maps.Keys(states)), slices.Sorted(slices.Values(c.want)); !slices.Equal(got, want) {
				t.Errorf("list %q = %q, want %q", c.args, got, want)
			}
			if c.args[0] == "--limit" && pages < 4 {
				t.Errorf("list %q of %d keys took %d pages, want at least 4", c.args, len(all), pages)
			}
			for k, s := range states {
				if want := map[bool]string{true: "claimed", false: "committed"}[strings.HasPrefix(k, "c")]; s != want {
					t.Errorf("list %q: %q is %s, want %s", c.args, k, s, want)
				}
			}
		}
	})
}

func TestListText(t *testing.T) {
	t.Parallel()
	srv := testenv.RedisCluster(t) // a keyspace small enough for one page
	stuckClaims(t, srv, time.Minute, "stuck")
	commit(t, srv, "done", "v")
	r := on(t, srv, "", "list", "--count", "10000")
	r.want(t, exitOK, "KEY    STATE      LEFT", "2 keys; the scan is complete\n")
	for _, line := range strings.Split(r.out, "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && (f[0] == "stuck" && f[1] != "claimed" || f[0] == "done" && f[1] != "committed") {
			t.Errorf("line %q: wrong state", line)
		}
	}
}
