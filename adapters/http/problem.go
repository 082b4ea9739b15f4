package idemqhttp

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// The problem types of the middleware's own answers (RFC 9457
// application/problem+json, the "type" member). Each is the address of its
// own documentation.
const (
	problemBase = "https://pkg.go.dev/github.com/idemq/idemq/adapters/http#"

	// ProblemKeyMissing (400): the request has no Idempotency-Key and the
	// operation requires one.
	ProblemKeyMissing = problemBase + "ProblemKeyMissing"
	// ProblemKeyInvalid (400): the header is malformed (see ErrInvalidKey).
	ProblemKeyInvalid = problemBase + "ProblemKeyInvalid"
	// ProblemBodyTooLarge (413): the body is larger than the middleware
	// fingerprints (Config.MaxBodyBytes).
	ProblemBodyTooLarge = problemBase + "ProblemBodyTooLarge"
	// ProblemBodyUnreadable (400): the body could not be read.
	ProblemBodyUnreadable = problemBase + "ProblemBodyUnreadable"
	// ProblemInProgress (409, Retry-After): a request with this key is
	// still being processed; retry later with the same key.
	ProblemInProgress = problemBase + "ProblemInProgress"
	// ProblemKeyReused (422): the key was used for another request (method,
	// target or body differ).
	ProblemKeyReused = problemBase + "ProblemKeyReused"
	// ProblemUnavailable (503, Retry-After): the idempotency store failed
	// or the outcome of the request is unknown; retry with the same key.
	ProblemUnavailable = problemBase + "ProblemUnavailable"
	// ProblemServerError (500): the middleware cannot answer (a stored
	// response that does not decode, a response too large for a
	// transactional store, a misconfigured server).
	ProblemServerError = problemBase + "ProblemServerError"
)

// ProblemContentType is the media type of the middleware's error bodies.
const ProblemContentType = "application/problem+json"

// Problem is the body of the middleware's own error responses (RFC 9457).
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
}

var problemTitles = map[string]string{
	ProblemKeyMissing:     "Idempotency-Key is missing",
	ProblemKeyInvalid:     "Idempotency-Key is malformed",
	ProblemBodyTooLarge:   "Request body too large for an idempotent request",
	ProblemBodyUnreadable: "Request body cannot be read",
	ProblemInProgress:     "A request with this Idempotency-Key is in progress",
	ProblemKeyReused:      "Idempotency-Key reused for another request",
	ProblemUnavailable:    "Idempotency store unavailable",
	ProblemServerError:    "Idempotent request failed",
}

// problem answers w with status and a Problem of type typ; retryAfter > 0
// adds a Retry-After in whole seconds.
func problem(w http.ResponseWriter, status int, typ, detail string, retryAfter time.Duration) {
	body, _ := json.Marshal(Problem{Type: typ, Title: problemTitles[typ], Status: status, Detail: detail})
	h := w.Header()
	h.Set("Content-Type", ProblemContentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	if retryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((retryAfter+time.Second-1)/time.Second), 10))
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
