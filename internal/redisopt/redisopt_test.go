package redisopt_test

import (
	"slices"
	"testing"

	"github.com/idemq/idemq/internal/redisopt"
)

func TestParse(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr      string
		wantAddrs []string
		wantDB    int
		wantUser  string
		wantPass  string
		wantTLS   bool
		cluster   bool
	}{
		{addr: "127.0.0.1:6379", wantAddrs: []string{"127.0.0.1:6379"}},
		{addr: "a:7001, b:7002", wantAddrs: []string{"a:7001", "b:7002"}},
		{addr: "redis://:secret@redis:6379/2", wantAddrs: []string{"redis:6379"}, wantDB: 2, wantPass: "secret"},
		{addr: "rediss://ops:pw@cache.internal:6380", wantAddrs: []string{"cache.internal:6380"}, wantUser: "ops", wantPass: "pw", wantTLS: true},
		{addr: "redis://a:7001?addr=b:7002&addr=c:7003", wantAddrs: []string{"a:7001", "b:7002", "c:7003"}, cluster: true},
	} {
		o, err := redisopt.Parse(tc.addr)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.addr, err)
			continue
		}
		got := []any{o.Addrs, o.DB, o.Username, o.Password, o.TLSConfig != nil, o.IsClusterMode}
		want := []any{tc.wantAddrs, tc.wantDB, tc.wantUser, tc.wantPass, tc.wantTLS, tc.cluster}
		if !slices.Equal(o.Addrs, tc.wantAddrs) || !slices.Equal(got[1:], want[1:]) {
			t.Errorf("Parse(%q) = addrs, db, user, password, tls, cluster %v, want %v", tc.addr, got, want)
		}
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"", "localhost", "a:1,,b:2", "http://x:1", "redis://h:1/db"} {
		if o, err := redisopt.Parse(addr); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", addr, o)
		}
	}
}
