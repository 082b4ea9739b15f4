package idemqhttp

import (
	"context"
	"errors"
	"net/http"

	"github.com/idemq/idemq/dedupe"
)

// answer sends the client what the guard decided: the handler's response
// (committed, or not stored), a stored one (a replay), or a problem.
func (m *Middleware) answer(w http.ResponseWriter, r *http.Request, rec *recorder, err error) {
	var conflict *dedupe.ConflictError[response]
	switch {
	case err == nil:
		m.m.processed.Add(1)
		copyHeader(w.Header(), rec.header)
		rec.response().write(w)
	case errors.As(err, &conflict):
		m.replay(w, r, rec, conflict.Value)
	case errors.Is(err, errNotStored):
		m.notStored(w, r, rec)
	default:
		m.fail(w, r, err, rec != nil)
	}
}

// replay sends a stored response, marked with ReplayedHeader. (An
// optimistic run that lost may have streamed its own oversized response
// already: then there is nothing left to send.)
func (m *Middleware) replay(w http.ResponseWriter, r *http.Request, rec *recorder, stored response) {
	m.m.replays.Add(1)
	m.cfg.Logger.Debug("idemqhttp: replaying the stored response", "method", r.Method, "path", r.URL.Path, "status", stored.status)
	if rec != nil && rec.streaming() {
		return
	}
	stored.write(w, ReplayedHeader, "true")
}

// notStored sends the handler's response as it wrote it; the key is free.
func (m *Middleware) notStored(w http.ResponseWriter, r *http.Request, rec *recorder) {
	m.m.notStored.Add(1)
	switch {
	case rec.streaming():
		m.cfg.Logger.Warn("idemqhttp: response larger than MaxResponseBytes sent without being stored; a retry runs the handler again",
			"method", r.Method, "path", r.URL.Path, "limit", m.cfg.MaxResponseBytes)
	case rec.oversized:
		m.cfg.Logger.Warn("idemqhttp: response larger than MaxResponseBytes; rolled back",
			"method", r.Method, "path", r.URL.Path, "limit", m.cfg.MaxResponseBytes)
		problem(w, http.StatusInternalServerError, ProblemServerError, "the response is too large to be stored; nothing was done", 0)
	default:
		copyHeader(w.Header(), rec.header)
		rec.response().write(w)
	}
}

// fail answers a failure of the guard with a problem; ran says whether
// the handler ran.
func (m *Middleware) fail(w http.ResponseWriter, r *http.Request, err error, ran bool) {
	var reused *dedupe.KeyReusedError
	var decode *dedupe.DecodeError
	switch {
	case errors.As(err, &reused):
		m.m.keyReused.Add(1)
		problem(w, http.StatusUnprocessableEntity, ProblemKeyReused,
			"this key was used for a request with another method, target or body", 0)
	case errors.Is(err, dedupe.ErrLeaseLost):
		m.unavailable(w, r, err, ran) // first: it may come joined with ErrInProgress (another owner took the key)
	case errors.Is(err, dedupe.ErrInProgress): // at once, or after Config.Wait (ErrWaitTimeout)
		m.m.inProgress.Add(1)
		problem(w, http.StatusConflict, ProblemInProgress,
			"the first request with this key is still being processed; retry later", m.cfg.RetryAfter)
	case errors.As(err, &decode):
		m.m.guardErrors.Add(1)
		m.cfg.Logger.Error("idemqhttp: the stored response does not decode", "err", err)
		problem(w, http.StatusInternalServerError, ProblemServerError, "the stored response cannot be read", 0)
	case r.Context().Err() != nil && errors.Is(err, context.Cause(r.Context())):
		m.cfg.Logger.Debug("idemqhttp: the client went away", "err", err) // nobody to answer
	default:
		m.unavailable(w, r, err, ran)
	}
}

// unavailable answers 503: the store failed, or the request's outcome is
// unknown (ran: its handler ran, or may have).
func (m *Middleware) unavailable(w http.ResponseWriter, r *http.Request, err error, ran bool) {
	m.m.guardErrors.Add(1)
	m.cfg.Logger.Warn("idemqhttp: guard failed; answering 503", "method", r.Method, "path", r.URL.Path, "err", err)
	detail := "the idempotency store cannot be reached; the request was not carried out; retry with the same key"
	if ran || errors.Is(err, dedupe.ErrCommitUnknown) {
		detail = "the request may or may not have been carried out; retry with the same key"
	}
	problem(w, http.StatusServiceUnavailable, ProblemUnavailable, detail, m.cfg.RetryAfter)
}
