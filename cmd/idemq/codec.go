package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// The -codec values, and the encodings a shown value ends up in.
const (
	codecJSON   = "json"
	codecString = "string"
	codecRaw    = "raw"

	encBase64 = "base64" // what raw shows
)

// shownValue is a committed value as the -codec shows it.
type shownValue struct {
	encoding string          // json, string or base64: the codec that applied
	text     string          // for text output
	js       json.RawMessage // for -json output
}

// showValue shows v with codec; a value the codec does not fit falls back
// to the next one down: json to string, string to base64 (under -json,
// where a JSON string must be valid UTF-8).
func showValue(codec string, v []byte, asJSON bool) shownValue {
	switch {
	case codec == codecJSON && json.Valid(v):
		return jsonValue(v)
	case codec != codecRaw && (utf8.Valid(v) || !asJSON):
		js, _ := json.Marshal(string(v))
		return shownValue{encoding: codecString, text: textOf(v), js: js}
	}
	b := base64.StdEncoding.EncodeToString(v)
	js, _ := json.Marshal(b)
	return shownValue{encoding: encBase64, text: b, js: js}
}

func jsonValue(v []byte) shownValue {
	var pretty, compact bytes.Buffer
	_ = json.Indent(&pretty, v, "", "  ")
	_ = json.Compact(&compact, v)
	return shownValue{encoding: codecJSON, text: pretty.String(), js: compact.Bytes()}
}

// textOf is v as text, Go-quoted unless it is valid UTF-8 with no control
// characters but newlines and tabs.
func textOf(v []byte) string {
	s := string(v)
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r < ' ' && r != '\n' && r != '\t' || r == 0x7f {
			return strconv.Quote(s)
		}
	}
	return s
}
