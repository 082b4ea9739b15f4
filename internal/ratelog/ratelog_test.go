package ratelog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestRepeatedWarningsAreHeldBack(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	h := New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}), time.Hour)
	l := slog.New(h)
	for range 5 {
		l.Warn("store failed")
		l.Info("progress")
	}
	l.With("k", "v").Warn("store failed") // derived loggers share the limit
	l.Error("other")
	got := buf.String()
	if n := strings.Count(got, "store failed"); n != 1 {
		t.Errorf("store failed logged %d times, want 1:\n%s", n, got)
	}
	if n := strings.Count(got, "progress"); n != 5 {
		t.Errorf("info logged %d times, want all 5", n)
	}
	if !strings.Contains(got, "other") {
		t.Error("a different message was held back")
	}
}

func TestNextRecordCountsSuppressed(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	h := New(slog.NewTextHandler(&buf, nil), time.Minute)
	now := time.Unix(100, 0)
	for i := range 4 {
		r := slog.NewRecord(now.Add(time.Duration(i)*time.Second), slog.LevelWarn, "store failed", 0)
		if err := h.Handle(t.Context(), r); err != nil {
			t.Fatal(err)
		}
	}
	r := slog.NewRecord(now.Add(2*time.Minute), slog.LevelWarn, "store failed", 0)
	if err := h.Handle(t.Context(), r); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); strings.Count(got, "store failed") != 2 || !strings.Contains(got, "suppressed=3") {
		t.Errorf("log = %q, want the first record, then one with suppressed=3", got)
	}
}
