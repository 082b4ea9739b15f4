package main

import (
	"go/parser"
	"go/token"
	"slices"
	"strings"
	"testing"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/testenv"
)

func TestHelpListsEveryCommand(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"-h"}, {"help"}, {"--help"}} {
		r := cli(t, nil, "", args...)
		r.want(t, exitOK, "Usage: idemq", "Exit status:")
		for _, c := range commands() {
			if !strings.Contains(r.out, "  "+strings.TrimSpace(c.name+" "+c.args)+" ") || !strings.Contains(r.out, c.summary) {
				t.Errorf("%q does not list %s with its summary", args, c.name)
			}
		}
	}
	for _, c := range commands() {
		cli(t, nil, "", "help", c.name).want(t, exitOK, "Usage: idemq [global flags] "+c.synopsis)
		cli(t, nil, "", c.name, "-h").want(t, exitOK, "Usage: idemq [global flags] "+c.synopsis)
	}
}

// TestDocRepeatsUsage keeps the package doc's copy of idemq -h in step.
func TestDocRepeatsUsage(t *testing.T) {
	t.Parallel()
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments)
	if err != nil {
		t.Fatal(err)
	}
	usage := cli(t, nil, "", "-h").out
	var indented []string
	for _, line := range strings.Split(strings.TrimRight(usage, "\n"), "\n") {
		indented = append(indented, strings.TrimRight("\t"+line, "\t"))
	}
	if doc := f.Doc.Text(); !strings.Contains(doc, strings.Join(indented, "\n")) {
		t.Errorf("doc.go does not repeat idemq -h; it should hold, indented by a tab:\n%s", usage)
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		err  string
	}{
		{nil, "no command"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"-nope", "get", "k"}, "flag provided but not defined: -nope"},
		{[]string{"get"}, "get takes one KEY, not 0 arguments"},
		{[]string{"get", "a", "b"}, "get takes one KEY, not 2 arguments"},
		{[]string{"get", ""}, "a key is 1 to"},
		{[]string{"release", "k"}, "release needs --token T or --force"},
		{[]string{"release", "k", "--token", "t", "--force"}, "release needs --token T or --force"},
		{[]string{"list", "--claimed", "--committed"}, "--claimed or --committed, not both"},
		{[]string{"list", "x"}, "list takes no arguments"},
		{[]string{"-codec", "yaml", "stats"}, `-codec "yaml"`},
		{[]string{"-redis", "nowhere", "get", "k"}, "-redis"},
		{[]string{"-redis", "redis://h:1/2", "-cluster", "get", "k"}, "a Cluster has only database 0"},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"`},
	} {
		r := cli(t, nil, "", c.args...)
		r.want(t, exitUsage)
		r.wantErr(t, c.err)
		r.wantErr(t, "Run 'idemq -h' for usage.")
	}
}

func TestBadGlobAndCursorAreUsageErrors(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	on(t, srv, "", "list", "--match", "[oops").want(t, exitUsage)
	on(t, srv, "", "list", "--cursor", "not-a-cursor").want(t, exitUsage)
}

// TestUsageErrorsWithRedisDown: arguments are checked before dialling, so
// a bad one is a usage error (2), not a failure to reach Redis (1).
func TestUsageErrorsWithRedisDown(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		err  string
	}{
		{[]string{"list", "--match", "[oops"}, "[oops"},
		{[]string{"list", "--cursor", "not-a-cursor"}, `"not-a-cursor"`},
		{[]string{"list", "--cursor", "7.12@"}, `"7.12@"`},
		{[]string{"release", "k", "--token", "a:b"}, `"a:b"`},
		{[]string{"release", "k", "--token", strings.Repeat("t", dedupe.MaxTokenLen+1)}, "owner token"},
	} {
		r := cli(t, nil, "", append([]string{"-redis", "127.0.0.1:1", "-timeout", "2s"}, c.args...)...)
		r.want(t, exitUsage)
		r.wantErr(t, c.err)
		if strings.Contains(r.err, "does not answer") {
			t.Errorf("%q dialled Redis before checking its arguments:\n%s", c.args, r.err)
		}
	}
}

func TestRedisDownIsFailure(t *testing.T) {
	t.Parallel()
	r := cli(t, nil, "", "-redis", "127.0.0.1:1", "-timeout", "2s", "get", "k")
	r.want(t, exitFailure)
	r.wantErr(t, "idemq: Redis at 127.0.0.1:1 does not answer")
}

func TestEnvironmentDefaults(t *testing.T) {
	t.Parallel()
	srv := testenv.Redis(t)
	commit(t, srv, "from-env", "v")
	env := map[string]string{"IDEMQ_REDIS": "redis://" + srv.Addrs[0] + "/0", "IDEMQ_PREFIX": srv.Prefix}
	cli(t, env, "", "get", "from-env").want(t, exitOK, "committed")
	secret := map[string]string{"IDEMQ_REDIS": "redis://ops:s3cret@" + srv.Addrs[0]}
	if r := cli(t, secret, "", "-h"); strings.Contains(r.out, "s3cret") || !strings.Contains(r.out, "xxxxx") {
		t.Errorf("idemq -h shows the password of IDEMQ_REDIS, or no redacted URL:\n%s", r.out)
	}
}

func TestConnectionFlags(t *testing.T) {
	t.Parallel()
	env := vars{"IDEMQ_REDIS_PASSWORD": "from-env"}.get
	for _, c := range []struct {
		args          []string
		user, pass    string
		cluster, tlsv bool
	}{
		{args: nil, pass: "from-env"},
		{args: []string{"-redis", "redis://u:url@h:1", "-password", "flag"}, user: "u", pass: "flag"},
		{args: []string{"-redis", "rediss://h:1", "-user", "ops"}, user: "ops", pass: "from-env", tlsv: true},
		{args: []string{"-redis", "h:1", "-cluster", "-tls", "-tls-insecure"}, pass: "from-env", cluster: true, tlsv: true},
	} {
		g := defaultGlobals(env)
		fs := newFlagSet("t")
		g.register(fs)
		if err := fs.Parse(c.args); err != nil {
			t.Fatal(err)
		}
		if err := g.check(env); err != nil {
			t.Fatal(err)
		}
		o, err := g.options()
		if err != nil {
			t.Fatalf("%q: %v", c.args, err)
		}
		got := []any{o.Username, o.Password, o.IsClusterMode, o.TLSConfig != nil}
		if want := []any{c.user, c.pass, c.cluster, c.tlsv}; !slices.Equal(got, want) {
			t.Errorf("%q: user, password, cluster, TLS = %v, want %v", c.args, got, want)
		}
		if c.args != nil && slices.Contains(c.args, "-tls-insecure") && !o.TLSConfig.InsecureSkipVerify {
			t.Errorf("%q: TLS verifies the server", c.args)
		}
	}
}
