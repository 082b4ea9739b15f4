package main

import (
	"context"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

func listCommand() command {
	return command{
		name: "list", synopsis: "list [--claimed|--committed] [--match GLOB] [--limit N] [--cursor C]",
		summary: "the keys under the prefix, a page at a time (SCAN, every master of a Cluster)",
		help: `
Lists the keys under the prefix with Redis's SCAN (never KEYS), on a Cluster on every
master, at most --limit keys per call: the last line gives the --cursor that lists the
next ones (with the same filters). A page may hold fewer keys than --limit, even none,
when --max-scans SCAN calls found no more: go on with the cursor until the scan is
complete. Committed values are not shown (idemq get shows one). Keys that exist for the
whole scan are listed once each; keys that change meanwhile may or may not be.`,
		new: newList,
	}
}

type listFlags struct {
	claimed, committed     bool
	match, cursor          string
	limit, count, maxScans int
}

func newList(fs *flag.FlagSet) action {
	f := &listFlags{}
	fs.BoolVar(&f.claimed, "claimed", false, "only claimed keys")
	fs.BoolVar(&f.committed, "committed", false, "only committed keys")
	fs.StringVar(&f.match, "match", "", "only keys that match this `glob` (Redis's syntax: * ? [a-z] [^a] \\x)")
	fs.IntVar(&f.limit, "limit", 100, "the most keys to list")
	fs.StringVar(&f.cursor, "cursor", "", "go on from the `cursor` a previous list printed")
	fs.IntVar(&f.count, "count", 1000, "SCAN's COUNT: keys each SCAN call examines, roughly")
	fs.IntVar(&f.maxScans, "max-scans", 1000, "the most SCAN calls of one list (they walk the whole database, other prefixes too)")
	return f.run
}

func (f *listFlags) options() (redisstore.ScanOptions, error) {
	o := redisstore.ScanOptions{Cursor: f.cursor, Match: f.match, Limit: f.limit, Count: f.count, MaxScans: f.maxScans}
	switch {
	case f.claimed && f.committed:
		return o, usagef("list: --claimed or --committed, not both")
	case f.limit < 1 || f.count < 1 || f.maxScans < 1:
		return o, usagef("list: --limit, --count and --max-scans must be at least 1")
	case f.claimed:
		o.State = dedupe.Claimed
	case f.committed:
		o.State = dedupe.Committed
	}
	if err := o.Check(); err != nil { // before dialling: a bad --match or --cursor is exit 2
		return o, usagef("list: %v", err)
	}
	return o, nil
}

func (f *listFlags) run(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 {
		return usagef("list takes no arguments, not %q", args)
	}
	o, err := f.options()
	if err != nil {
		return err
	}
	c, err := a.open(ctx)
	if err != nil {
		return err
	}
	defer c.close()
	ctx, cancel := a.bounded(ctx)
	defer cancel()
	page, err := c.store.Scan(ctx, o)
	if err != nil {
		return fmt.Errorf("idemq: list: %w", err)
	}
	return a.printPage(page)
}

// pageView is the -json form of list.
type pageView struct {
	Keys     []keyView `json:"keys"`
	Cursor   string    `json:"cursor"`   // "" when complete
	Complete bool      `json:"complete"` // the scan is over: no more keys
}

func (a *app) printPage(page redisstore.ScanPage) error {
	views := make([]keyView, len(page.Keys))
	for i, k := range page.Keys {
		views[i] = a.view(k, k.Err)
	}
	if a.g.json {
		return printJSON(a.out, pageView{Keys: views, Cursor: page.Cursor, Complete: page.Cursor == ""})
	}
	tw := tabwriter.NewWriter(a.out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY\tSTATE\tLEFT\tTOKEN")
	for _, v := range views {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", display(v.Key), v.State, ttlText(v.TTLMillis), tokenText(v))
	}
	_ = tw.Flush()
	if page.Cursor == "" {
		fmt.Fprintf(a.out, "%s; the scan is complete\n", plural(len(views), "key"))
		return nil
	}
	fmt.Fprintf(a.out, "%s; more may follow: idemq list --cursor %s (with the same filters)\n", plural(len(views), "key"), page.Cursor)
	if len(views) == 0 {
		fmt.Fprintln(a.out, "(none found within --max-scans SCAN calls: the database is large, or few keys match)")
	}
	return nil
}

func tokenText(v keyView) string {
	switch {
	case v.Error != "":
		return v.Error
	case v.Watched:
		return v.Token + " (a waiter waits)"
	}
	return v.Token
}
