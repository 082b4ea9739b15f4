package main

import (
	"context"
	"flag"
)

// command is one subcommand: its name, its help, and a constructor of its
// flags and action.
type command struct {
	name     string
	args     string // the arguments after the name, as idemq -h lists them
	synopsis string // the command line, as idemq help NAME shows it
	summary  string // one line for idemq -h
	help     string // the text of idemq help NAME
	new      func(fs *flag.FlagSet) action
}

// action runs a command with its arguments once its flags are parsed.
type action func(ctx context.Context, a *app, args []string) error

// commands is the table of subcommands, in the order the usage lists them.
func commands() []command {
	return []command{getCommand(), listCommand(), releaseCommand(), forgetCommand(), statsCommand()}
}

func findCommand(name string) (command, bool) {
	for _, c := range commands() {
		if c.name == name {
			return c, true
		}
	}
	return command{}, false
}
