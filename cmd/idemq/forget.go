package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

func forgetCommand() command {
	return command{
		name: "forget", args: "KEY", synopsis: "forget KEY [-y]",
		summary: "delete a committed value: the next delivery runs again (asks unless -y)",
		help: `
Deletes the value committed under KEY (whichever run committed it), so that the next
delivery of a message with this key runs its handler again instead of being
acknowledged as a duplicate: for a value committed by mistake, or work that must be
redone. Asks first (naming the run that committed it) unless -y is given, then deletes
that run's value only: if the key holds another by then, it deletes nothing (exit
status 3). A claim is never deleted (see idemq release).`,
		new: newForget,
	}
}

type forgetFlags struct{ yes bool }

func newForget(fs *flag.FlagSet) action {
	f := &forgetFlags{}
	fs.BoolVar(&f.yes, "y", false, "do not ask for confirmation")
	return f.run
}

// forgetView is the -json form of forget.
type forgetView struct {
	Key       string `json:"key"`
	Forgotten bool   `json:"forgotten"`
	Token     string `json:"token"` // of the run that had committed the value, as read before
}

func (f *forgetFlags) run(ctx context.Context, a *app, args []string) error {
	key, err := oneKey("forget", args)
	if err != nil {
		return err
	}
	c, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	info, err := a.inspect(ctx, c, "forget", key)
	switch {
	case isCorrupt(err):
		return corrupt("forget", key, err)
	case err != nil:
		return err
	case info.State != dedupe.Committed:
		return statef("forget %s: the key is %s: no committed value to forget", display(key), holds(info))
	}
	question := fmt.Sprintf("Forget the value of %s, %s? Its next delivery runs the handler again.", display(key), holds(info))
	if err := a.confirm(f.yes, question); err != nil {
		return err
	}
	return f.forget(ctx, a, c, info)
}

// forget deletes the value info shows, committed by info.Token's run, and
// nothing else: a value committed since is not the one the operator
// confirmed.
func (f *forgetFlags) forget(ctx context.Context, a *app, c *conn, info redisstore.KeyInfo) error {
	bctx, cancel := a.bounded(ctx)
	defer cancel()
	forgotten, err := c.store.ForgetToken(bctx, info.Key, info.Token)
	if err != nil {
		return fmt.Errorf("idemq: forget %s: %w", display(info.Key), err)
	}
	if !forgotten {
		now, err := a.inspect(ctx, c, "forget", info.Key)
		if err != nil {
			return err
		}
		return statef("forget %s: the key no longer holds the value of token %q it read: it is %s; nothing was forgotten",
			display(info.Key), info.Token, holds(now))
	}
	if a.g.json {
		return printJSON(a.out, forgetView{Key: info.Key, Forgotten: true, Token: info.Token})
	}
	fmt.Fprintf(a.out, "forgot the value of %s (committed by token %q); its next delivery runs the handler again\n", display(info.Key), info.Token)
	return nil
}
