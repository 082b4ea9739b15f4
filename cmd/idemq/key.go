package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

// oneKey is the KEY argument of a command that takes exactly one.
func oneKey(cmd string, args []string) (string, error) {
	switch {
	case len(args) != 1:
		return "", usagef("%s takes one KEY, not %d arguments", cmd, len(args))
	case args[0] == "" || len(args[0]) > dedupe.MaxKeyLen:
		return "", usagef("%s: a key is 1 to %d bytes", cmd, dedupe.MaxKeyLen)
	}
	return args[0], nil
}

// inspect reads key. A corrupt record is a *dedupe.DecodeError, returned
// as it is with the info read; any other error is wrapped for cmd.
func (a *app) inspect(ctx context.Context, c *conn, cmd, key string) (redisstore.KeyInfo, error) {
	ctx, cancel := a.bounded(ctx)
	defer cancel()
	info, err := c.store.Inspect(ctx, key)
	if err != nil && !isCorrupt(err) {
		return info, fmt.Errorf("idemq: %s %s: %w", cmd, display(key), err)
	}
	return info, err
}

// corrupt is the error of a command on a corrupt record.
func corrupt(cmd, key string, err error) error {
	return fmt.Errorf("idemq: %s %s: %w", cmd, display(key), err)
}

// isCorrupt reports an error of a record that is none of ours.
func isCorrupt(err error) bool {
	var de *dedupe.DecodeError
	return errors.As(err, &de)
}

// holds says what info holds, for messages.
func holds(info redisstore.KeyInfo) string {
	switch info.State {
	case dedupe.Claimed:
		return fmt.Sprintf("claimed by token %q (lease left %s)", info.Token, duration(info.TTL))
	case dedupe.Committed:
		return fmt.Sprintf("committed by token %q (TTL left %s)", info.Token, duration(info.TTL))
	}
	return "free"
}

// printKey prints one key: JSON, or name-value lines.
func (a *app) printKey(v keyView) error {
	if a.g.json {
		return printJSON(a.out, v)
	}
	rows := [][2]string{{"key", display(v.Key)}, {"record", display(v.RecordKey)}, {"state", v.State}}
	if v.Token != "" {
		rows = append(rows, [2]string{"token", v.Token})
	}
	if v.State == "claimed" {
		rows = append(rows, [2]string{"watched", yesNo(v.Watched, "yes: a duplicate waits (or waited) for its outcome", "no")})
	}
	if v.State != "free" {
		rows = append(rows, [2]string{leftName(v.State), ttlText(v.TTLMillis)})
	}
	if v.Encoding != "" {
		rows = append(rows, [2]string{"value (" + v.Encoding + ")", v.text})
	}
	if v.Error != "" {
		rows = append(rows, [2]string{"error", v.Error})
	}
	fields(a.out, rows)
	return nil
}

func leftName(state string) string {
	if state == "claimed" {
		return "lease left"
	}
	return "ttl left"
}

func ttlText(ms int64) string {
	if ms < 0 {
		return duration(redisstore.NoExpiry)
	}
	return duration(msDuration(ms))
}

func msDuration(ms int64) time.Duration { return time.Duration(ms) * time.Millisecond }

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}
