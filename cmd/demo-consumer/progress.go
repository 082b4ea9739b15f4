package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// progress shows how far each phase is: a progress bar on a terminal,
// plain lines every second otherwise (a log, CI, a test's buffer).
type progress struct {
	out io.Writer
	tty bool

	mu  sync.Mutex
	bar *progressbar.ProgressBar // the running phase's, on a terminal
}

func newProgress(out io.Writer) *progress {
	f, ok := out.(*os.File)
	return &progress{out: out, tty: ok && term.IsTerminal(int(f.Fd()))}
}

// phase shows the progress of count towards total until the returned stop
// is called.
func (p *progress) phase(title string, total int, count func() int) (stop func()) {
	start := time.Now()
	every := time.Second
	if p.tty {
		every = 100 * time.Millisecond
		p.setBar(progressbar.NewOptions(total, progressbar.OptionSetWriter(p.out),
			progressbar.OptionSetDescription(fmt.Sprintf("%-22s", title)), progressbar.OptionShowCount(),
			progressbar.OptionSetWidth(30), progressbar.OptionSetPredictTime(false), progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("msg")))
	}
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				p.update(title, count(), total, start)
				return
			case <-tick.C:
				p.update(title, count(), total, start)
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		p.finish()
	}
}

func (p *progress) update(title string, n, total int, start time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Set(n)
		return
	}
	fmt.Fprintf(p.out, "%-22s %6d/%d messages handled (%3.0f%%) %5.1fs\n",
		title, n, total, 100*float64(n)/float64(total), time.Since(start).Seconds())
}

// event prints a line between the progress updates.
func (p *progress) event(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Clear()
	}
	fmt.Fprintln(p.out, line)
}

func (p *progress) setBar(b *progressbar.ProgressBar) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar = b
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bar != nil {
		_ = p.bar.Exit()
		fmt.Fprintln(p.out)
		p.bar = nil
	}
}
