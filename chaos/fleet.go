package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"
)

// fleet runs the worker processes: each member (k1, k2, ... for the Kafka
// adapter, w1, w2 for the Watermill routers, f1, f2 for the franz-go
// adapter) is one process at a time, and
// each of its processes (incarnations: k1.1, k1.2, ...) has a journal and a
// log file of its own.
type fleet struct {
	exe string // the binary re-executed as a worker
	dir string

	mu      sync.Mutex
	members map[string]*member
	procs   []*proc // every incarnation, in start order
}

// member is one consumer identity, restarted after each fault that ends it.
type member struct {
	name string
	base workerConfig // Instance and Journal are set per incarnation
	cur  *proc
	n    int // incarnations so far
}

// proc is one worker process.
type proc struct {
	inst    string // "k1.2"
	member  string
	role    string
	journal string
	log     string
	pid     int
	started time.Time

	// Set under fleet.mu.
	signal   string    // "SIGKILL" or "SIGTERM" when the run stopped it
	signalAt time.Time // when that signal was sent
	exitAt   time.Time
	exitErr  error
	exited   chan struct{}
}

// How processes ended.
const (
	sigKill = "SIGKILL"
	sigTerm = "SIGTERM"
)

func newFleet(exe, dir string) *fleet {
	return &fleet{exe: exe, dir: dir, members: map[string]*member{}}
}

func (f *fleet) add(name string, base workerConfig) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.members[name] = &member{name: name, base: base}
}

// start starts member name's next incarnation.
func (f *fleet) start(name string) (*proc, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.members[name]
	m.n++
	w := m.base
	w.Instance = fmt.Sprintf("%s.%d", name, m.n)
	w.Journal = filepath.Join(f.dir, "journal-"+w.Instance)
	p := &proc{inst: w.Instance, member: name, role: w.Role, journal: w.Journal,
		log: filepath.Join(f.dir, "log-"+w.Instance), exited: make(chan struct{})}
	logFile, err := os.Create(p.log)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(f.exe, w.args()...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the run
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("chaos: starting worker %s: %w", w.Instance, err)
	}
	p.pid, p.started = cmd.Process.Pid, time.Now()
	m.cur = p
	f.procs = append(f.procs, p)
	go func() {
		err := cmd.Wait()
		_ = logFile.Close()
		f.mu.Lock()
		p.exitAt, p.exitErr = time.Now(), err
		f.mu.Unlock()
		close(p.exited)
	}()
	return p, nil
}

// current is member name's running process, or nil.
func (f *fleet) current(name string) *proc {
	f.mu.Lock()
	defer f.mu.Unlock()
	p := f.members[name].cur
	if p == nil || !p.exitAt.IsZero() {
		return nil
	}
	return p
}

// stop sends sig to member name's process and waits up to wait for it to
// exit (then SIGKILLs it). It returns the process, nil if none was running.
func (f *fleet) stop(name, sig string, wait time.Duration) (*proc, error) {
	p := f.current(name)
	if p == nil {
		return nil, nil
	}
	s := syscall.SIGKILL
	if sig == sigTerm {
		s = syscall.SIGTERM
	}
	f.mu.Lock()
	p.signal, p.signalAt = sig, time.Now()
	f.mu.Unlock()
	if err := syscall.Kill(p.pid, s); err != nil {
		return p, fmt.Errorf("chaos: %s to %s: %w", sig, p.inst, err)
	}
	select {
	case <-p.exited:
		return p, nil
	case <-time.After(wait):
	}
	_ = syscall.Kill(p.pid, syscall.SIGKILL)
	<-p.exited
	return p, fmt.Errorf("chaos: %s did not exit within %v of %s", p.inst, wait, sig)
}

// stopAll stops every running process with SIGTERM, at once, and returns
// the errors of those that had to be killed.
func (f *fleet) stopAll(wait time.Duration) []error {
	f.mu.Lock()
	var names []string
	for name := range f.members {
		names = append(names, name)
	}
	f.mu.Unlock()
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() { _, errs[i] = f.stop(name, sigTerm, wait) })
	}
	wg.Wait()
	return errs
}

// unexpected returns the processes that exited without a signal of the run.
func (f *fleet) unexpected() []*proc {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*proc
	for _, p := range f.procs {
		if !p.exitAt.IsZero() && p.signal == "" {
			out = append(out, p)
		}
	}
	return out
}

// all returns every process so far (a copy of the list).
func (f *fleet) all() []*proc {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*proc(nil), f.procs...)
}

// names returns the members of role, in name order.
func (f *fleet) names(role string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for name, m := range f.members {
		if m.base.Role == role {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}
