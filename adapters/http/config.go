package idemqhttp

import (
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.opentelemetry.io/otel/metric"

	"github.com/idemq/idemq/consumer"
	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/ratelog"
)

// Defaults applied by New to zero Config fields (the guard's are
// consumer.Guard's: dedupe.DefaultLease, dedupe.DefaultTTL).
const (
	// DefaultHeader is the request header that carries the key.
	DefaultHeader = "Idempotency-Key"
	// DefaultMaxBodyBytes bounds the request body the middleware buffers
	// and fingerprints (1 MiB).
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMaxResponseBytes bounds the response body it buffers and
	// stores (1 MiB).
	DefaultMaxResponseBytes = 1 << 20
	// DefaultRetryAfter is the Retry-After of a 409 or a 503.
	DefaultRetryAfter = time.Second
	// MaxKeyLen is the longest key the header may carry, in bytes (as
	// Stripe's 255 characters).
	MaxKeyLen = 255
)

// DefaultMethods are the methods the middleware guards when
// Config.Methods is empty: the ones that are not idempotent by HTTP's own
// definition and create or change state.
var DefaultMethods = []string{http.MethodPost, http.MethodPatch}

// DefaultReplayHeaders are the response headers stored with a response
// and replayed to retries when Config.ReplayHeaders is empty: those that
// describe the body or name what the request created. Set-Cookie is not
// among them on purpose (a cookie belongs to the first exchange).
var DefaultReplayHeaders = []string{
	"Content-Type", "Content-Encoding", "Content-Language", "Content-Location",
	"Location", "ETag", "Last-Modified", "Link",
}

// Config configures a Middleware. The zero value is usable: keys from the
// Idempotency-Key header on POST and PATCH, required (400 without one),
// one key space for every client (set ScopeFunc), a fingerprint of method,
// target and body, bodies and responses up to 1 MiB, 409 at once for a
// retry while the first request runs, claim-first with dedupe's lease,
// responses kept 24h.
type Config struct {
	// Header is the request header that carries the key: a structured-field
	// string as the IETF draft says ("abc"), or a bare token as Stripe's
	// clients send it (abc); both name the same key. Zero: DefaultHeader.
	Header string

	// Methods are the request methods the middleware guards; requests with
	// other methods pass through untouched. Zero: DefaultMethods (POST,
	// PATCH).
	Methods []string

	// MissingKey says what a guarded request without the header gets:
	// consumer.KeyReject (the default: 400, the handler does not run) or
	// consumer.KeyProcess (the handler runs without the guard, at least
	// once per request). Other policies are refused. A header that is
	// present but malformed is always a 400.
	MissingKey consumer.KeyPolicy

	// ScopeFunc returns the client's identity (an account, a user, a
	// tenant; not a secret: it is part of the key in the store, visible to
	// operators), which becomes part of the stored key: two clients that
	// pick the same key each get their own response. Run the middleware
	// behind your authentication. Zero: nil, one key space shared by every
	// client, so that one client's key can replay another's response: set
	// it unless there is a single client.
	ScopeFunc func(r *http.Request) string

	// FingerprintFunc returns a fingerprint of the request, kept with the
	// key: a request that reuses a key with another fingerprint gets 422
	// instead of the stored response. body is the whole request body (at
	// most MaxBodyBytes). nil from the func means no comparison. Zero:
	// RequestFingerprint (method, path and query, body).
	FingerprintFunc func(r *http.Request, body []byte) []byte

	// MaxBodyBytes bounds the request body, which the middleware reads
	// whole before the handler runs (to fingerprint it; the handler then
	// reads the same bytes). A larger body gets 413 and claims nothing.
	// Zero: DefaultMaxBodyBytes (1 MiB). Negative is invalid.
	MaxBodyBytes int64

	// MaxResponseBytes bounds the response body the middleware buffers to
	// store. A handler that writes more is answered as it writes (the
	// buffered part first, then the rest streamed), and nothing is stored:
	// the key is free once the handler returns, and a retry runs the
	// handler again. On a transactional store (NewTx) the response cannot
	// go out before the commit: the handler's writes roll back and the
	// client gets 500. Zero: DefaultMaxResponseBytes (1 MiB). Negative is
	// invalid.
	MaxResponseBytes int

	// ReplayHeaders are the response headers stored and replayed (with the
	// status and the body). The first response carries every header the
	// handler set. Zero: DefaultReplayHeaders.
	ReplayHeaders []string

	// Wait is how long a retry that finds the first request still running
	// waits for its response before it gets 409, counted from when the
	// middleware starts claiming the key (dedupe.WithMaxWait); a retry that
	// got the key within it runs its handler to the end. Zero: no wait, 409 at once, as the draft says. A transactional store
	// (NewTx) takes none: its retry waits on the key's row for the store's
	// lock timeout (pgstore.WithLockTimeout). Negative is invalid.
	Wait time.Duration

	// RetryAfter is the Retry-After of a 409 (the key is in progress) and of
	// a 503 (the store failed), in whole seconds, rounded up. Zero:
	// DefaultRetryAfter (1s). Negative is invalid.
	RetryAfter time.Duration

	// Guard is the guard's mode, lease and TTL (see consumer.Guard). Zero:
	// claim-first with dedupe.DefaultLease (30s: how long a crashed
	// instance's key stays blocked, at most; renewed while the handler
	// runs), responses kept dedupe.DefaultTTL (24h, Stripe's minimum).
	// Guard.Optimistic runs concurrent retries at once and replays the
	// first stored response to the others: only for handlers without side
	// effects. A transactional store takes none (zero).
	Guard consumer.Guard

	// Logger receives replays (Debug), store failures and responses too
	// large to store (Warn, at most once per 10s per message). Zero:
	// slog.Default(); slog.New(slog.DiscardHandler) for none.
	Logger *slog.Logger

	// MeterProvider exports the counters of Stats through OpenTelemetry as
	// idemq.http.* (nil: no-op).
	MeterProvider metric.MeterProvider
}

// withDefaults validates c and fills in its zero fields.
func (c Config) withDefaults() (Config, error) {
	if err := c.check(); err != nil {
		return c, err
	}
	if c.Header == "" {
		c.Header = DefaultHeader
	}
	c.Header = http.CanonicalHeaderKey(c.Header)
	c.Methods = slices.Clone(orDefault(c.Methods, DefaultMethods))
	c.ReplayHeaders = slices.Clone(orDefault(c.ReplayHeaders, DefaultReplayHeaders))
	for i, h := range c.ReplayHeaders {
		c.ReplayHeaders[i] = http.CanonicalHeaderKey(h)
	}
	if c.FingerprintFunc == nil {
		c.FingerprintFunc = RequestFingerprint
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if c.MaxResponseBytes == 0 {
		c.MaxResponseBytes = DefaultMaxResponseBytes
	}
	if c.RetryAfter == 0 {
		c.RetryAfter = DefaultRetryAfter
	}
	c.Logger = ratelog.Logger(c.Logger, 0)
	return c, nil
}

// check returns a *consumer.ConfigError naming the first field out of range.
func (c Config) check() error {
	if err := c.Guard.Check(pkg); err != nil {
		return err
	}
	if err := c.MissingKey.Check(pkg, "MissingKey", consumer.KeyReject, consumer.KeyProcess); err != nil {
		return err
	}
	switch {
	case c.Header != "" && !isToken(c.Header):
		return invalid("Header", "%q is not a header field name", c.Header)
	case c.MaxBodyBytes < 0:
		return invalid("MaxBodyBytes", "is %d, want > 0 (0: the default)", c.MaxBodyBytes)
	case c.MaxResponseBytes < 0:
		return invalid("MaxResponseBytes", "is %d, want > 0 (0: the default)", c.MaxResponseBytes)
	case c.Wait < 0:
		return invalid("Wait", "is %v, want >= 0", c.Wait)
	case c.RetryAfter < 0:
		return invalid("RetryAfter", "is %v, want > 0 (0: the default)", c.RetryAfter)
	}
	for _, m := range c.Methods {
		if !isToken(m) {
			return invalid("Methods", "%q is not a method name", m)
		}
	}
	for _, h := range c.ReplayHeaders {
		if !isToken(h) {
			return invalid("ReplayHeaders", "%q is not a header field name", h)
		}
	}
	return nil
}

// runOptions are the dedupe options every Run of this config uses.
func (c Config) runOptions() []dedupe.RunOption {
	opts := append(c.Guard.RunOptions(), dedupe.WithCodec(responseCodec{}))
	if c.Wait == 0 {
		return append(opts, dedupe.WithNoWait())
	}
	return append(opts, dedupe.WithMaxWait(c.Wait))
}

func orDefault(s, def []string) []string {
	if len(s) == 0 {
		return def
	}
	return s
}

// isToken reports whether s is an RFC 9110 token (a method or a header
// field name).
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// pkg names this package in its *consumer.ConfigError values.
const pkg = "idemqhttp"

// invalid returns a *consumer.ConfigError for field.
func invalid(field, format string, args ...any) error {
	return consumer.Invalid(pkg, field, format, args...)
}
