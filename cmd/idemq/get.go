package main

import (
	"context"
	"flag"

	"github.com/idemq/idemq/dedupe"
)

func getCommand() command {
	return command{
		name: "get", args: "KEY", synopsis: "get KEY",
		summary: "what KEY holds: free, claimed (token, lease left) or committed (value, TTL left)",
		help: `
Shows what KEY holds, read in one atomic step: nothing (free); a claim, with its
owner token, its remaining lease and whether a waiter marked it (waits for its
outcome); or a committed value, with the token of the run that committed it, its
remaining TTL and the value (see -codec). Exit status 3 when the key is free, 1
when its record is none of idemq's (corrupt).`,
		new: func(*flag.FlagSet) action { return runGet },
	}
}

func runGet(ctx context.Context, a *app, args []string) error {
	key, err := oneKey("get", args)
	if err != nil {
		return err
	}
	c, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	info, err := a.inspect(ctx, c, "get", key)
	if err != nil && !isCorrupt(err) {
		return err
	}
	if perr := a.printKey(a.view(info, err)); perr != nil {
		return perr
	}
	if err == nil && info.State == dedupe.Absent {
		return statef("key %s is free: nothing is claimed or committed", display(key))
	}
	if err != nil {
		return corrupt("get", key, err)
	}
	return nil
}
