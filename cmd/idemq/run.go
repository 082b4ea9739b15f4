package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

// run is the whole command: it parses args, runs the subcommand, prints an
// error if any, and returns the exit status. main and the tests call it.
func run(ctx context.Context, args []string, env func(string) string, std stdio) int {
	a := &app{g: defaultGlobals(env), env: env, in: bufio.NewReader(std.in), out: std.out, err: std.err}
	err := a.main(ctx, args)
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(a.err, err)
		var usage *usageError
		if errors.As(err, &usage) {
			fmt.Fprintln(a.err, "Run 'idemq -h' for usage.")
		}
	}
	return exitCode(err)
}

// main parses the global flags and the command's, and runs the command.
func (a *app) main(ctx context.Context, args []string) error {
	fs := newFlagSet("idemq")
	a.g.register(fs)
	if err := fs.Parse(args); err != nil {
		return a.parseErr(err, a.usage)
	}
	if fs.NArg() == 0 {
		return usagef("no command")
	}
	name, rest := fs.Arg(0), fs.Args()[1:]
	if name == "help" {
		return a.help(rest)
	}
	c, ok := findCommand(name)
	if !ok {
		return usagef("unknown command %q", name)
	}
	cfs := newFlagSet("idemq " + name)
	act := c.new(cfs)
	a.g.register(cfs)
	pos, err := parse(cfs, rest)
	if err != nil {
		return a.parseErr(err, func(w io.Writer) { a.commandHelp(w, c) })
	}
	if err := a.g.check(a.env); err != nil {
		return err
	}
	return act(ctx, a, pos)
}

// newFlagSet returns a flag set that returns its errors and prints nothing.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseErr turns a flag error into the run's error: -h prints help to
// stdout (exit 0), anything else is a usage error.
func (a *app) parseErr(err error, help func(io.Writer)) error {
	if errors.Is(err, flag.ErrHelp) {
		help(a.out)
		return err
	}
	return usagef("%v", err)
}
