// Package idemqhttp is an Idempotency-Key middleware for net/http on
// idemq's guard: a POST or PATCH runs its handler at most once per key
// (and client) across every instance that shares a dedupe.Store, and a
// retry gets the first response again instead of a second charge. It
// follows the IETF draft (draft-ietf-httpapi-idempotency-key-header-07)
// and Stripe's semantics. Its path is github.com/idemq/idemq/adapters/http;
// its name is idemqhttp, so that it sits beside net/http.
//
//	store, err := redisstore.New(client) // one per process, shared by its servers
//	if err != nil {
//		return err
//	}
//	idem, err := idemqhttp.New(store, idemqhttp.Config{
//		ScopeFunc: func(r *http.Request) string { return accountID(r) }, // the client's identity
//	})
//	if err != nil {
//		return err // a *consumer.ConfigError naming the field
//	}
//	mux.Handle("POST /orders", idem.Handler(orders)) // per route; or chi's r.Use(idem.Handler)
//
// New validates the Config once and returns a *consumer.ConfigError naming
// the field (consumer.ErrInvalidConfig); nothing in this package panics on
// a bad config. Errors and log messages of this package start with
// "idemqhttp: ".
//
// # What each request gets
//
// The handler writes to a buffer; its response goes out only once the
// guard has stored it (or decided not to). Retries are told apart by the
// key, the scope and the fingerprint of method, target and body.
//
//	the first request with a key          the handler runs; its response is stored, then sent
//	a retry after it completed            the stored response: status, ReplayHeaders, body, byte for byte,
//	                                      with Idempotent-Replayed: true; the handler does not run
//	a retry while the first still runs    409 + Retry-After (Config.Wait: wait for the first's response)
//	the key with another method, target   422 (the fingerprints differ); nothing runs
//	  or body
//	no Idempotency-Key                    400 (Config.MissingKey: consumer.KeyProcess runs it unguarded)
//	a malformed key                       400: empty, over MaxKeyLen (255) bytes, sent twice, not an
//	                                      sf-string ("abc") or a bare token (abc)
//	a body over MaxBodyBytes (1 MiB)      413; nothing claimed
//	the handler answers 2xx, 3xx or 4xx   stored and replayed (except 408, 409, 423, 425, 429)
//	the handler answers 5xx, or 408, 409, sent as it is; nothing stored, the key is free: a retry runs again
//	  423, 425, 429
//	the handler panics                    nothing stored, the key is free; the panic goes on to net/http
//	the response outgrows                 sent as the handler writes it (streamed past the limit); nothing
//	  MaxResponseBytes (1 MiB)            stored, the key is free: a retry runs the handler again
//	the store is down                     503 + Retry-After; the handler does not run
//	the commit's outcome is unknown       503 + Retry-After: the request may or may not have been carried
//	                                      out; retries get 409 until the claim's lease ends, then the
//	                                      stored response or a new run
//	the lease was lost mid-handler        503 + Retry-After, as above; the key is free at once
//	a stored response does not decode     500
//	a method not in Config.Methods        the handler, untouched
//
// The middleware's own errors are application/problem+json (RFC 9457): a
// Problem whose Type is one of the Problem* constants, so that a client
// can branch on it.
//
// # Which responses are stored, and why
//
// Stored: every response that says the request was carried out or refused
// for good (2xx, 3xx and 4xx), so that a retry gets the first result,
// success or error, as the draft says, and as Stripe does for a request
// that began executing (a declined charge stays declined). A handler that
// returns without writing answered 200 (net/http's rule) and that is
// stored too. 4xx is stored because a handler that refused a request may
// still have done something (recorded a declined attempt), and because
// the answer to the same payload would be the same.
//
// Not stored: 5xx, so that a retry runs the handler again (the server
// failed, and a client retries a 5xx to get another try; Stripe stores
// 500s too, this middleware does not); and the
// 4xx codes that mean "not now" (408 Request Timeout, 409 Conflict, 423
// Locked, 425 Too Early, 429 Too Many Requests), which a replay would
// repeat for the whole TTL. Neither is anything stored when the handler
// panics, when the guard's lease ran out before the handler finished, or
// when the response is larger than MaxResponseBytes (see below). A
// response that is not stored reaches the client as the handler wrote it,
// and its key is released first, so that an immediate retry runs.
//
// The middleware's own answers (400, 409, 413, 422, 503) are never stored:
// nothing ran.
//
// A response larger than Config.MaxResponseBytes cannot be buffered: it
// goes out as the handler writes it, and is not stored. The key is free
// once the handler returns, so a retry runs the handler again: keep
// guarded responses small (a Location and a short body), or raise the
// limit. (Refusing the response would hide an effect that happened; storing
// part of it would replay something else.)
//
// # Keys, scopes and fingerprints
//
// The key is the Idempotency-Key header (Config.Header): a structured-field
// string as the draft specifies ("8e03978e-40d5-43e8-bc93-6894a57f9324"),
// or the same without quotes as Stripe's clients send it; both are the
// same key. The stored key is "http:<len(scope)>:<scope>:<key>", where the
// scope is Config.ScopeFunc's answer (the client's account, user or
// tenant): two clients that pick the same key each get their own response.
// Without a ScopeFunc every client shares one key space, and one client's
// key can replay another client's response: set it unless there is one
// client. Put the middleware behind your authentication.
//
// The fingerprint (Config.FingerprintFunc, default RequestFingerprint: a
// SHA-256 of method, path and query, and body) is kept with the key; a
// request that reuses a key with another fingerprint gets 422, never the
// other request's response. The body is read whole before the handler
// runs (to fingerprint it) and handed to the handler as it was; a body
// over Config.MaxBodyBytes gets 413, because fingerprinting part of it
// could take a different request for a retry.
//
// # Concurrent retries
//
// Claim-first (the default): the first request claims the key in the
// store before its handler runs, with a lease renewed while it runs
// (Config.Guard.Lease, 30s); a retry that finds the claim gets 409 at once
// (Config.Wait: it waits up to that long for the first's response, then
// 409). If the instance running the first request dies, its key is blocked
// for at most the lease. Config.Guard.Optimistic runs concurrent retries
// at once and replays the first stored response to the others: only for
// handlers without side effects. Responses are kept Config.Guard.TTL (24h,
// Stripe's minimum); a retry after that runs again.
//
// The handler's request context is the guard's: it is cancelled when the
// client goes away (as net/http does) and when the guard's lease is lost;
// a handler that gives up should answer 5xx (not stored). A response is
// stored even if the client went away meanwhile, so that its retry gets it.
//
// # Exactly-once effects in PostgreSQL
//
// NewTx builds the middleware on a transactional store (a *pgstore.Store of
// package dedupe/pgstore): the handler runs inside a transaction that holds
// the key, and finds it with the store's Tx(r.Context()); its writes and
// the stored response commit together, before the response goes out. A
// response that is not stored rolls the handler's writes back; so does a
// response over MaxResponseBytes, which cannot go out before the commit:
// the handler's Write returns ErrResponseTooLarge and the client gets 500.
// A retry while the first runs waits on the key's row, up to the store's
// lock timeout (pgstore.WithLockTimeout, 30s by default, which bounds the
// handler's own lock waits in the transaction too), then gets the
// response, or 409.
//
// # Routers
//
// Handler is a func(http.Handler) http.Handler: per route with net/http's
// patterns (mux.Handle("POST /orders/{id}", idem.Handler(h)): r.PathValue
// works inside), around a whole mux (idem.Handler(mux)), or chi's
// r.Use(idem.Handler) and r.With(idem.Handler).Post(...). With echo v4,
// echo.WrapMiddleware(idem.Handler), and an inner middleware that writes a
// returned error inside the guard (if err := next(c); err != nil {
// c.Error(err) }; return nil): echo writes returned errors after the
// middleware has finished, which the guard would see as an empty 200. With
// gin, guard each route's net/http handler: gin.WrapH(idem.Handler(h)).
//
// The handler's ResponseWriter buffers: it implements neither http.Flusher
// nor http.Hijacker (a flush would send a response the guard has not
// committed), http.ResponseController's methods return
// http.ErrNotSupported, and 1xx responses are dropped.
//
// # Logs and metrics
//
// Config.Logger (nil: slog.Default()) receives replays (Debug), store
// failures and responses too large to store (Warn, at most once per 10s
// per message). Middleware.Stats returns the counters, which
// Config.MeterProvider (nil: no-op) also exports through OpenTelemetry as
// idemq.http.processed, .replays, .in_progress, .key_errors, .key_reused,
// .not_stored, .unguarded, .guard_errors and the gauge .inflight.
//
// # Cost
//
// A fresh key costs the guard's claim and its commit (two round trips to
// Redis), a replay one (the claim finds the stored response), and the
// request and response are copied once each. BenchmarkMiddleware compares
// a bare handler with the middleware on the memory store and on Redis.
package idemqhttp
