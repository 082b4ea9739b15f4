package idemqwatermill

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
)

// TestOutcomeJSON checks appendOutcome against encoding/json on the
// outcomes that take each path: no messages, nil ones, empty fields
// (omitted), metadata in key order, strings json.Marshal escapes.
func TestOutcomeJSON(t *testing.T) {
	for name, o := range map[string]outcome{
		"NoMessages":  {Messages: []storedMessage{}},
		"NilMessages": {},
		"Bare":        {Messages: []storedMessage{{UUID: "01HX"}}},
		"Full": {Messages: []storedMessage{
			{UUID: "a", Metadata: map[string]string{"z": "1", "a": "2", "m": ""}, Payload: []byte("payload")},
			{UUID: "b", Metadata: map[string]string{}, Payload: []byte{}},
		}},
		"Escaped": {Messages: []storedMessage{{
			UUID:     "<&>\"\\",
			Metadata: map[string]string{"\n\t\x00": "é\u2028\xff", "k": "</script>"},
			Payload:  []byte{0, 0xff, 0xfe},
		}}},
	} {
		t.Run(name, func(t *testing.T) { checkOutcomeJSON(t, o) })
	}
}

// FuzzOutcomeJSON checks that appendOutcome writes what json.Marshal
// writes for any outcome, and that it decodes back to the outcome.
func FuzzOutcomeJSON(f *testing.F) {
	f.Add("01HX", "key", "value", []byte("payload"), "k2", "")
	f.Add("<&>", "\u2028", "\xff\x00", []byte{}, "", "\"")
	f.Fuzz(func(t *testing.T, uuid, k1, v1 string, payload []byte, k2, v2 string) {
		checkOutcomeJSON(t, outcome{Messages: []storedMessage{
			{UUID: uuid, Metadata: map[string]string{k1: v1, k2: v2}, Payload: payload},
			{UUID: v2},
		}})
	})
}

func checkOutcomeJSON(t *testing.T, o outcome) {
	t.Helper()
	want, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	codec := outcomeCodec{max: DefaultMaxOutputBytes}
	got, err := codec.Encode(o)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Encode = %s, %v; want %s as encoding/json writes it", got, err, want)
	}
	var back, viaJSON outcome
	if err := codec.Decode(got, &back); err != nil {
		t.Fatalf("Decode(%s): %v", got, err)
	}
	if err := json.Unmarshal(want, &viaJSON); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, viaJSON) {
		t.Fatalf("Decode = %#v, want %#v as encoding/json reads it", back, viaJSON)
	}
}
