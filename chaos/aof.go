package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// aofWatch samples the size of redis-server's AOF (the active incremental
// file of Redis 7's multi-part AOF) every aofEvery, so that a simulated
// host crash can cut the file back to what an fsync a moment earlier had
// made durable.
type aofWatch struct {
	path string

	mu      sync.Mutex
	samples []aofSample // the last aofKeep of them, oldest first
}

type aofSample struct {
	at   time.Time
	size int64
}

const (
	aofEvery = 50 * time.Millisecond
	aofKeep  = 100 // 5s
)

// watchAOF samples the AOF under dir until done is closed.
func watchAOF(dir string, done <-chan struct{}) *aofWatch {
	w := &aofWatch{}
	go func() {
		tick := time.NewTicker(aofEvery)
		defer tick.Stop()
		for {
			w.sample(dir)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return w
}

func (w *aofWatch) sample(dir string) {
	path, err := activeAOF(dir)
	if err != nil {
		return
	}
	fi, err := os.Stat(path)
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if path != w.path {
		w.path, w.samples = path, nil
	}
	w.samples = append(w.samples, aofSample{time.Now(), fi.Size()})
	if len(w.samples) > aofKeep {
		w.samples = w.samples[1:]
	}
}

// cutBack truncates the AOF to its size at t (the last sample before it)
// and returns how many bytes went. Redis loads a file cut inside a command
// (aof-load-truncated, on by default) up to the last whole one.
func (w *aofWatch) cutBack(t time.Time) (int64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	var keep int64 = -1
	for _, s := range w.samples {
		if s.at.After(t) {
			break
		}
		keep = s.size
	}
	if keep < 0 || w.path == "" {
		return 0, fmt.Errorf("chaos: no AOF size known from before %v", t.Format(time.TimeOnly))
	}
	fi, err := os.Stat(w.path)
	if err != nil {
		return 0, err
	}
	if err := os.Truncate(w.path, keep); err != nil {
		return 0, fmt.Errorf("chaos: cutting the AOF back: %w", err)
	}
	return fi.Size() - keep, nil
}

// activeAOF is the incremental AOF file the manifest names last.
func activeAOF(dir string) (string, error) {
	aofDir := filepath.Join(dir, "appendonlydir")
	f, err := os.Open(filepath.Join(aofDir, "appendonly.aof.manifest"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	name := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 6 && fields[0] == "file" && fields[5] == "i" {
			name = fields[1]
		}
	}
	if name == "" {
		return "", fmt.Errorf("chaos: no incremental AOF in %s", aofDir)
	}
	return filepath.Join(aofDir, name), sc.Err()
}
