package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/redisstore"
)

// keyView is a key as the output shows it; its JSON is the stable -json
// form of get, list and stats.
type keyView struct {
	Key       string          `json:"key"`
	RecordKey string          `json:"record_key"`
	State     string          `json:"state"` // free, claimed, committed or corrupt
	Token     string          `json:"token,omitempty"`
	Watched   bool            `json:"watched"`            // a waiter marked the claim
	TTLMillis int64           `json:"ttl_ms"`             // lease or TTL left; 0 free, -1 no expiry
	Value     json.RawMessage `json:"value,omitempty"`    // committed, get only
	Encoding  string          `json:"encoding,omitempty"` // of value: json, string or base64
	Error     string          `json:"error,omitempty"`    // corrupt: why
	text      string          // the value for text output
}

// view makes the keyView of info (and of err, a corrupt record's error).
func (a *app) view(info redisstore.KeyInfo, err error) keyView {
	v := keyView{Key: info.Key, RecordKey: info.RecordKey, State: stateName(info.State), Token: info.Token, Watched: info.Watched, TTLMillis: ttlMillis(info.TTL)}
	if err != nil {
		v.State, v.Error = "corrupt", err.Error()
	}
	if info.State == dedupe.Committed && info.Value != nil {
		sv := showValue(a.g.codec, info.Value, a.g.json)
		v.Value, v.Encoding, v.text = sv.js, sv.encoding, sv.text
	}
	return v
}

// stateName is the output's name of a state: a key with nothing is free.
func stateName(s dedupe.State) string {
	if s == dedupe.Absent {
		return "free"
	}
	return s.String()
}

func ttlMillis(d time.Duration) int64 {
	if d == redisstore.NoExpiry {
		return -1
	}
	return d.Milliseconds()
}

// duration shows a lease or TTL: to the millisecond under a minute, to the
// second above.
func duration(d time.Duration) string {
	switch {
	case d == redisstore.NoExpiry:
		return "no expiry"
	case d < time.Minute:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// printJSON writes v as one line of JSON.
func printJSON(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}

// display is a key as text: as it is, or Go-quoted if it holds spaces,
// quotes or bytes that are not printable.
func display(s string) string {
	for _, r := range s {
		if r <= ' ' || r == '"' || r == 0x7f || r == 0xfffd {
			return strconv.Quote(s)
		}
	}
	return s
}

// fields prints name-value lines, values aligned, continuation lines of a
// multi-line value indented under the first.
func fields(w io.Writer, rows [][2]string) {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	indent := "\n" + strings.Repeat(" ", width+2)
	for _, r := range rows {
		fmt.Fprintf(w, "%-*s  %s\n", width, r[0], strings.ReplaceAll(r[1], "\n", indent))
	}
}

// bytesText shows a byte count with a binary unit.
func bytesText(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB (%d bytes)", float64(n)/float64(div), "KMGTPE"[exp], n)
}

// plural is "1 key", "2 keys".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
