package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
	"github.com/idemq/idemq/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// result is what one run of the command printed and returned.
type result struct {
	code     int
	out, err string
}

// cli runs the command in this process with args, stdin and an environment
// (nil: empty), as main would.
func cli(t *testing.T, env map[string]string, stdin string, args ...string) result {
	t.Helper()
	return cliReading(t, env, strings.NewReader(stdin), args...)
}

// cliReading is cli with any stdin.
func cliReading(t *testing.T, env map[string]string, stdin io.Reader, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, args, func(k string) string { return env[k] }, stdio{in: stdin, out: &out, err: &errb})
	return result{code: code, out: out.String(), err: errb.String()}
}

// on runs the command against srv with the test's prefix.
func on(t *testing.T, srv testenv.RedisServer, stdin string, args ...string) result {
	t.Helper()
	return onReading(t, srv, strings.NewReader(stdin), args...)
}

// onReading is on with any stdin.
func onReading(t *testing.T, srv testenv.RedisServer, stdin io.Reader, args ...string) result {
	t.Helper()
	global := []string{"-redis", strings.Join(srv.Addrs, ","), "-prefix", srv.Prefix}
	if srv.Cluster {
		global = append(global, "-cluster")
	}
	return cliReading(t, nil, stdin, append(global, args...)...)
}

// answerAfter is stdin that runs change when the command reads the answer
// to its question (it asks first), then answers answer: the key changes
// while the operator reads the question.
func answerAfter(change func(), answer string) io.Reader {
	return &changingReader{change: change, answer: strings.NewReader(answer)}
}

type changingReader struct {
	change func()
	once   sync.Once
	answer io.Reader
}

func (r *changingReader) Read(p []byte) (int, error) {
	r.once.Do(r.change)
	return r.answer.Read(p)
}

func (r result) want(t *testing.T, code int, out ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit status %d, want %d; stdout:\n%s\nstderr:\n%s", r.code, code, r.out, r.err)
	}
	for _, s := range out {
		if !strings.Contains(r.out, s) {
			t.Errorf("stdout lacks %q; stdout:\n%s\nstderr:\n%s", s, r.out, r.err)
		}
	}
}

func (r result) wantErr(t *testing.T, s string) {
	t.Helper()
	if !strings.Contains(r.err, s) {
		t.Errorf("stderr lacks %q; stderr:\n%s", s, r.err)
	}
}

// forEachServer runs test on a standalone Redis, the Cluster and Valkey.
func forEachServer(t *testing.T, test func(t *testing.T, srv testenv.RedisServer)) {
	t.Run("Standalone", func(t *testing.T) { t.Parallel(); test(t, testenv.Redis(t)) })
	t.Run("Cluster", func(t *testing.T) { t.Parallel(); test(t, testenv.RedisCluster(t)) })
	t.Run("Valkey", func(t *testing.T) { t.Parallel(); test(t, testenv.Valkey(t)) })
}

func newStore(t *testing.T, srv testenv.RedisServer) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(srv.NewClient(t), redisstore.WithPrefix(srv.Prefix))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// stuckClaims leaves claims as a consumer that crashed mid-batch does: a
// Batch claims keys (for the whole lease, as if their work had started),
// then its store goes away before any renewal or release.
func stuckClaims(t *testing.T, srv testenv.RedisServer, lease time.Duration, keys ...string) {
	t.Helper()
	s := newStore(t, srv)
	b, err := dedupe.NewBatch[string](s, dedupe.WithClaim(lease), dedupe.WithQueuedLease(lease))
	if err != nil {
		t.Fatal(err)
	}
	tickets, err := b.Claim(context.Background(), keys...)
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range tickets {
		if tk.Err() != nil {
			t.Fatalf("claim of %q: %v", tk.Key(), tk.Err())
		}
	}
	_ = s.Close()
	if err := b.Close(); !errors.Is(err, dedupe.ErrEndNotCalled) {
		t.Fatalf("Batch.Close = %v, want ErrEndNotCalled", err)
	}
}

// commit runs key once with dedupe.Run, committing v.
func commit[V any](t *testing.T, srv testenv.RedisServer, key string, v V, opts ...dedupe.RunOption) {
	t.Helper()
	_, err := dedupe.Run(context.Background(), newStore(t, srv), key, func(ctx context.Context, end dedupe.End[V]) (int, error) {
		end(v)
		return 0, nil
	}, append([]dedupe.RunOption{dedupe.WithClaim(time.Minute)}, opts...)...)
	if err != nil {
		t.Fatalf("committing %q: %v", key, err)
	}
}

func inspect(t *testing.T, srv testenv.RedisServer, key string) redisstore.KeyInfo {
	t.Helper()
	info, err := newStore(t, srv).Inspect(context.Background(), key)
	if err != nil {
		t.Fatalf("Inspect(%q): %v", key, err)
	}
	return info
}

// vars is an environment for cli.
type vars map[string]string

func (v vars) get(k string) string { return v[k] }

// field is the value of the name-value line name in text output ("" if
// none); a multi-line value comes with its continuation lines.
func field(out, name string) string {
	lines := strings.Split(out, "\n")
	for i, line := range lines {
		rest, ok := strings.CutPrefix(line, name+"  ")
		if !ok {
			continue
		}
		value := strings.TrimLeft(rest, " ")
		indent := len(line) - len(value)
		for _, next := range lines[i+1:] {
			if len(next) <= indent || strings.TrimSpace(next[:indent]) != "" {
				break
			}
			value += "\n" + next[indent:]
		}
		return value
	}
	return ""
}

// fieldsAre checks name-value lines of text output.
func (r result) fieldsAre(t *testing.T, want map[string]string) {
	t.Helper()
	for name, v := range want {
		if got := field(r.out, name); got != v {
			t.Errorf("%s = %q, want %q; stdout:\n%s", name, got, v, r.out)
		}
	}
}

// leftOf parses a lease or TTL of text output.
func leftOf(t *testing.T, out, name string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(field(out, name))
	if err != nil {
		t.Fatalf("%s: %v; stdout:\n%s", name, err, out)
	}
	return d
}
