package kafkatest

import "testing"

// TestMessageHeader: the last header of a name counts, names are
// case-sensitive, and a missing header is "".
func TestMessageHeader(t *testing.T) {
	m := Message{Headers: []Header{{"Idempotency-Key", []byte("k1")}, {"Other", []byte("x")}, {"Idempotency-Key", []byte("k2")}}}
	for name, want := range map[string]string{"Idempotency-Key": "k2", "idempotency-key": "", "Other": "x", "Missing": ""} {
		if got := m.Header(name); got != want {
			t.Errorf("Header(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestLineWriter: each complete line is passed on once, whatever the
// writes' boundaries; a partial line waits for its end.
func TestLineWriter(t *testing.T) {
	var lines []string
	w := &lineWriter{line: func(l string) { lines = append(lines, l) }}
	for _, chunk := range []string{"kafkatest: hol", "ding k1\nsecond", " line\n", "partial"} {
		if _, err := w.Write([]byte(chunk)); err != nil {
			t.Fatal(err)
		}
	}
	if want := []string{"kafkatest: holding k1", "second line"}; len(lines) != 2 || lines[0] != want[0] || lines[1] != want[1] {
		t.Errorf("lines = %q, want %q", lines, want)
	}
}
