package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

func releaseCommand() command {
	return command{
		name: "release", args: "KEY", synopsis: "release KEY (--token T | --force [-y])",
		summary: "free a stuck claim: --token T (that owner's only) or --force (any; asks unless -y)",
		help: `
Frees the claim on KEY, so that the next delivery (or a waiting duplicate) claims the
key and runs its work now rather than when the claim's lease runs out.

--token T releases the claim of that owner token only (idemq get shows it): the
guard's own fenced release, which wakes every waiting duplicate. --force releases
whatever claim holds the key: it reads the claim, asks first (naming its token) unless
-y is given, then releases that claim only; if another owner holds the key by then,
it releases nothing (exit status 3). A committed value is never released (see idemq
forget).

Release a claim only when its owner is gone (crashed, or stuck): a live owner loses
its claim, its commit is refused, and its work may run twice.`,
		new: newRelease,
	}
}

type releaseFlags struct {
	token      string
	force, yes bool
}

func newRelease(fs *flag.FlagSet) action {
	f := &releaseFlags{}
	fs.StringVar(&f.token, "token", "", "release the claim of this owner `token` only")
	fs.BoolVar(&f.force, "force", false, "release whatever claim holds the key")
	fs.BoolVar(&f.yes, "y", false, "with --force, do not ask for confirmation")
	return f.run
}

// releaseView is the -json form of release.
type releaseView struct {
	Key      string `json:"key"`
	Released bool   `json:"released"`
	Token    string `json:"token"` // the claim's, as given or as read before the release
	Forced   bool   `json:"forced"`
}

func (f *releaseFlags) run(ctx context.Context, a *app, args []string) error {
	key, err := oneKey("release", args)
	if err != nil {
		return err
	}
	if (f.token == "") == !f.force {
		return usagef("release needs --token T or --force, one of them")
	}
	if f.token != "" {
		if err := dedupe.CheckToken(f.token); err != nil {
			return usagef("release --token: %v", err)
		}
	}
	c, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	if f.force {
		return f.forced(ctx, a, c, key)
	}
	return f.fenced(ctx, a, c, key)
}

// fenced releases the claim of f.token with the guard's own Store.Release.
// It publishes the release only if a waiter marked the claim, and that is
// enough: a waiter always marks the claim before it waits (the watched
// script, run by the waiter's Claim or Get once it is subscribed), so every
// waiter hears the release (redisstore's TestReleaseByTokenWakesWaiter).
func (f *releaseFlags) fenced(ctx context.Context, a *app, c *conn, key string) error {
	bctx, cancel := a.bounded(ctx)
	defer cancel()
	released, err := c.store.Release(bctx, key, f.token)
	if err != nil {
		return fmt.Errorf("idemq: release %s: %w", display(key), err)
	}
	if !released {
		return a.notReleased(ctx, c, key, fmt.Sprintf("the claim of token %q", f.token))
	}
	return a.printRelease(releaseView{Key: key, Released: true, Token: f.token})
}

// forced shows the claim, asks, and releases the claim it showed: a claim
// taken meanwhile by another owner (the one shown released, or its lease
// ran out) is not the one the operator confirmed.
func (f *releaseFlags) forced(ctx context.Context, a *app, c *conn, key string) error {
	info, err := a.inspect(ctx, c, "release", key)
	switch {
	case isCorrupt(err):
		return corrupt("release", key, err)
	case err != nil:
		return err
	case info.State != dedupe.Claimed:
		return statef("release %s: the key is %s: no claim to release%s", display(key), holds(info), forgetHint(info))
	}
	question := fmt.Sprintf("Release the claim on %s, %s? If its owner is alive, it loses the key and its work may run twice.", display(key), holds(info))
	if err := a.confirm(f.yes, question); err != nil {
		return err
	}
	bctx, cancel := a.bounded(ctx)
	defer cancel()
	released, err := c.store.ForceReleaseToken(bctx, key, info.Token)
	if err != nil {
		return fmt.Errorf("idemq: release %s: %w", display(key), err)
	}
	if !released {
		return a.notReleased(ctx, c, key, fmt.Sprintf("the claim of token %q it read", info.Token))
	}
	return a.printRelease(releaseView{Key: key, Released: true, Token: info.Token, Forced: true})
}

func forgetHint(info redisstore.KeyInfo) string {
	if info.State == dedupe.Committed {
		return " (idemq forget deletes a committed value)"
	}
	return ""
}

// notReleased is the exit-3 error of a release that found no claim to
// release: it says what the key holds now.
func (a *app) notReleased(ctx context.Context, c *conn, key, wanted string) error {
	info, err := a.inspect(ctx, c, "release", key)
	if err != nil {
		return statef("release %s: the key does not hold %s (and reading it failed: %v); nothing was released", display(key), wanted, err)
	}
	return statef("release %s: the key does not hold %s: it is %s; nothing was released", display(key), wanted, holds(info))
}

func (a *app) printRelease(v releaseView) error {
	if a.g.json {
		return printJSON(a.out, v)
	}
	fmt.Fprintf(a.out, "released the claim of token %q on %s; the key is free, and a waiting duplicate (if any) claims it now\n", v.Token, display(v.Key))
	return nil
}
