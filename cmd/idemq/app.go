package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
)

// stdio is where a run reads and writes.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

// app is one run of the command: its flags and its streams.
type app struct {
	g   globals
	env func(string) string
	in  *bufio.Reader
	out io.Writer
	err io.Writer
}

// bounded is ctx with the -timeout of one step that talks to Redis.
func (a *app) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, a.g.timeout)
}

// confirm asks question on stderr (stdout stays clean for -json) and
// reads the answer from stdin: y or yes goes on, anything else (or the end
// of the input) is errNotConfirmed. yes (-y) skips the question.
func (a *app) confirm(yes bool, question string) error {
	if yes {
		return nil
	}
	fmt.Fprintf(a.err, "%s [y/N] ", question)
	line, _ := a.in.ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return nil
	}
	if !strings.HasSuffix(line, "\n") {
		fmt.Fprintln(a.err) // the input ended: end the prompt's line
	}
	return errNotConfirmed
}
