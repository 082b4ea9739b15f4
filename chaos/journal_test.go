package main

import (
	"path/filepath"
	"testing"
)

func TestJournalRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "journal")
	j, err := openJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	j.log(evStart, "ka-000001")
	j.write(entry{kind: evClaim, key: "ka-000002", token: "t1"}, entry{kind: evCommit, key: "ka-000002", token: "t1"})
	j.log(evExit, "stopped")
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	got, err := readJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []event{{kind: evStart, key: "ka-000001"}, {kind: evClaim, key: "ka-000002", token: "t1"},
		{kind: evCommit, key: "ka-000002", token: "t1"}, {kind: evExit, key: "stopped"}}
	if len(got) != len(want) {
		t.Fatalf("read %d events, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].kind != want[i].kind || got[i].key != want[i].key || got[i].token != want[i].token {
			t.Errorf("event %d = %c %s %s, want %c %s %s", i, got[i].kind, got[i].key, got[i].token, want[i].kind, want[i].key, want[i].token)
		}
		if i > 0 && got[i].at.Before(got[i-1].at) {
			t.Errorf("event %d is stamped before event %d", i, i-1)
		}
	}
	if !got[1].at.Equal(got[2].at) {
		t.Errorf("the entries of one write have different times: %v, %v", got[1].at, got[2].at)
	}
}

func TestParseEventRejectsMalformedLines(t *testing.T) {
	t.Parallel()
	for _, line := range []string{"", "123 S", "x S key", "123 SS key", "123 S key token extra"} {
		if _, err := parseEvent(line); err == nil {
			t.Errorf("parseEvent(%q) = nil error, want one", line)
		}
	}
}
