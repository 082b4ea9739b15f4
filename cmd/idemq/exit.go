package main

import (
	"errors"
	"flag"
	"fmt"

	"github.com/idemq/idemq/dedupe"
)

// Exit codes, as the usage text documents them.
const (
	exitOK      = 0 // done
	exitFailure = 1 // Redis failed or refused, a corrupt record, confirmation declined
	exitUsage   = 2 // the command line is wrong
	exitState   = 3 // the key is not in the state the command needs
)

// usageError is a wrong command line: exit 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return "idemq: " + e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// stateError is a key that is not in the state the command needs: exit 3.
type stateError struct{ msg string }

func (e *stateError) Error() string { return "idemq: " + e.msg }

func statef(format string, args ...any) error {
	return &stateError{msg: fmt.Sprintf(format, args...)}
}

// errNotConfirmed: the operator did not confirm a change.
var errNotConfirmed = errors.New("idemq: not confirmed; nothing changed")

// exitCode is the exit status for err.
func exitCode(err error) int {
	var usage *usageError
	var state *stateError
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, &usage), errors.Is(err, dedupe.ErrInvalidKey), errors.Is(err, dedupe.ErrInvalidOption):
		return exitUsage
	case errors.As(err, &state):
		return exitState
	}
	return exitFailure
}
