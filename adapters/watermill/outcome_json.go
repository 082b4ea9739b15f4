package idemqwatermill

import (
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
)

// noMessages is the encoded outcome of a handler without outputs.
const noMessages = `{"messages":[]}`

// appendOutcome appends o to b as encoding/json marshals it, byte for byte
// (FuzzOutcomeJSON checks it), without reflection: map keys sorted, []byte
// in standard base64, empty fields omitted, strings escaped as
// json.Marshal escapes them.
func appendOutcome(b []byte, o outcome) []byte {
	if o.Messages == nil {
		return append(b, `{"messages":null}`...)
	}
	b = append(b, `{"messages":[`...)
	for i, m := range o.Messages {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendStoredMessage(b, m)
	}
	return append(b, "]}"...)
}

func appendStoredMessage(b []byte, m storedMessage) []byte {
	b = append(b, `{"uuid":`...)
	b = appendString(b, m.UUID)
	if len(m.Metadata) > 0 {
		b = append(b, `,"metadata":{`...)
		for i, k := range slices.Sorted(maps.Keys(m.Metadata)) {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(appendString(b, k), ':')
			b = appendString(b, m.Metadata[k])
		}
		b = append(b, '}')
	}
	if len(m.Payload) > 0 {
		b = append(b, `,"payload":"`...)
		b = append(base64.StdEncoding.AppendEncode(b, m.Payload), '"')
	}
	return append(b, '}')
}

// appendString appends s as a JSON string. Printable ASCII that
// json.Marshal writes as it is (everything but '"', '\\' and the HTML
// characters '<', '>', '&') is copied; anything else, rare in UUIDs and
// metadata, is left to json.Marshal.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			quoted, _ := json.Marshal(s) // a string always marshals
			return append(b, quoted...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// encodedSize is about the size of o encoded: at least it for printable
// ASCII, so that one allocation usually holds it.
func (o outcome) encodedSize() int {
	n := len(noMessages) + 4
	for _, m := range o.Messages {
		n += len(`{"uuid":"","metadata":{},"payload":""},`) + len(m.UUID) + base64.StdEncoding.EncodedLen(len(m.Payload))
		for k, v := range m.Metadata {
			n += len(k) + len(v) + len(`"":"",`)
		}
	}
	return n
}
