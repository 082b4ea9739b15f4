package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A journal is one worker process's append-only record of what it did, one
// line per event: "<unix nanoseconds> <kind> <key> [<token>]". Each call
// writes its lines with one write(2) on an O_APPEND file before it returns,
// so a line written before a SIGKILL survives it (the kernel holds it; a
// power loss is not one of the run's faults).
type journal struct {
	mu  sync.Mutex
	f   *os.File
	buf []byte
}

// Event kinds.
const (
	evStart     = 'S' // the handler started for key
	evEffect    = 'E' // the handler's side effect, written before it calls end
	evDeadStart = 'Z' // the handler was called with its ctx already cancelled (it does nothing)
	evDuplicate = 'D' // a duplicate acked without running the handler
	evClaim     = 'C' // the guard claimed key (token: the owner token)
	evCommit    = 'K' // the guard's commit of key won (token: the committing run's)
	evRelease   = 'L' // the guard released its claim of key
	evLost      = 'N' // a renewal found the claim gone: the lease was lost
	evStats     = 'A' // the consumer's counters (key: name=value,...)
	evExit      = 'X' // the worker is exiting (key: why)
)

func openJournal(path string) (*journal, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("chaos: journal: %w", err)
	}
	return &journal{f: f}, nil
}

// entry is one line to write.
type entry struct {
	kind       byte
	key, token string
}

// log writes one event now.
func (j *journal) log(kind byte, key string) { j.write(entry{kind: kind, key: key}) }

// write writes entries with one write(2), all stamped with the current time.
// A failing journal ends the process: a run that cannot record its effects
// proves nothing.
func (j *journal) write(entries ...entry) {
	if len(entries) == 0 {
		return
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	now := strconv.FormatInt(time.Now().UnixNano(), 10)
	j.buf = j.buf[:0]
	for _, e := range entries {
		j.buf = append(j.buf, now...)
		j.buf = append(j.buf, ' ', e.kind, ' ')
		j.buf = append(j.buf, e.key...)
		if e.token != "" {
			j.buf = append(j.buf, ' ')
			j.buf = append(j.buf, e.token...)
		}
		j.buf = append(j.buf, '\n')
	}
	if _, err := j.f.Write(j.buf); err != nil {
		fmt.Fprintln(os.Stderr, "chaos: writing the journal:", err)
		os.Exit(3)
	}
}

func (j *journal) close() error { return j.f.Close() }

// event is one parsed journal line.
type event struct {
	at    time.Time
	kind  byte
	key   string
	token string
}

// readJournal parses a journal. A last line cut short by a SIGKILL cannot
// happen (lines are written whole), but a malformed line is an error.
func readJournal(path string) ([]event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var events []event
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for n := 1; sc.Scan(); n++ {
		e, err := parseEvent(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("chaos: %s:%d: %w", path, n, err)
		}
		events = append(events, e)
	}
	return events, sc.Err()
}

func parseEvent(line string) (event, error) {
	f := strings.Fields(line)
	if len(f) < 3 || len(f) > 4 || len(f[1]) != 1 {
		return event{}, fmt.Errorf("malformed line %q", line)
	}
	ns, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil {
		return event{}, fmt.Errorf("malformed time in %q", line)
	}
	e := event{at: time.Unix(0, ns), kind: f[1][0], key: f[2]}
	if len(f) == 4 {
		e.token = f[3]
	}
	return e, nil
}
