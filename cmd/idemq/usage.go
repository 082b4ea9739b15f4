package main

import (
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
)

// usage prints idemq -h: the commands, one line each, the global flags and
// the exit codes. The package doc repeats it.
func (a *app) usage(w io.Writer) {
	fmt.Fprint(w, "Usage: idemq [global flags] COMMAND [flags] [KEY]\n\n"+
		"Inspects and repairs the keys that idemq's guard (package dedupe) keeps in Redis.\n\nCommands:\n")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range commands() {
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimSpace(c.name+" "+c.args), c.summary)
	}
	fmt.Fprintf(tw, "  help [COMMAND]\tthis text, or a command's flags and details\n")
	_ = tw.Flush()
	fmt.Fprint(w, "\nGlobal flags (before or after the command):\n")
	fs := newFlagSet("idemq")
	g := defaultGlobals(a.env)
	g.redis = redacted(g.redis) // IDEMQ_REDIS may be a URL with a password
	g.register(fs)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprint(w, exitText)
}

// exitText documents the exit codes and value formats; doc.go repeats it.
const exitText = `
Values: -codec json shows a committed value as JSON (dedupe's default JSONCodec), pretty
with text output and compact with -json; -codec string as text (Go-quoted if it is not
valid UTF-8); -codec raw as base64 (standard encoding, padded). A value that is not valid
JSON, or not valid UTF-8 under -json, is shown the next way down (string, then base64).

Exit status:
  0  done
  1  failure: Redis unreachable or failing, a record that is none of idemq's (corrupt),
     a change not confirmed at the prompt
  2  usage error: unknown command or flag, missing or extra arguments, an invalid key,
     token, glob or cursor (all checked before connecting)
  3  the key is not in the state the command needs: get: the key is free (nothing
     claimed or committed); release: the key holds no claim (it is free or committed),
     or with --token the claim of another token; forget: the key holds no committed
     value (it is free or claimed)
`

// help prints idemq help [COMMAND].
func (a *app) help(args []string) error {
	switch {
	case len(args) == 0:
		a.usage(a.out)
		return nil
	case len(args) > 1:
		return usagef("help takes one command, not %d", len(args))
	}
	c, ok := findCommand(args[0])
	if !ok {
		return usagef("unknown command %q", args[0])
	}
	a.commandHelp(a.out, c)
	return nil
}

// commandHelp prints a command's synopsis, text and own flags.
func (a *app) commandHelp(w io.Writer, c command) {
	fmt.Fprintf(w, "Usage: idemq [global flags] %s\n\n%s\n", c.synopsis, strings.TrimSpace(c.help))
	fs := newFlagSet(c.name)
	c.new(fs)
	if hasFlags(fs) {
		fmt.Fprint(w, "\nFlags:\n")
		fs.SetOutput(w)
		fs.PrintDefaults()
	}
	fmt.Fprint(w, "\nGlobal flags: see idemq -h.\n")
}

// redacted is addr with the password of a URL replaced by "xxxxx".
func redacted(addr string) string {
	if u, err := url.Parse(addr); err == nil && strings.Contains(addr, "://") {
		return u.Redacted()
	}
	return addr
}

func hasFlags(fs *flag.FlagSet) bool {
	n := 0
	fs.VisitAll(func(*flag.Flag) { n++ })
	return n > 0
}
