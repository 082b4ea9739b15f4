package faultproxy_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/idemq/idemq/internal/faultproxy"
	"github.com/idemq/idemq/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }

// setup starts an echo server (it answers every line with the same line)
// and a proxy in front of it, and returns a connection through the proxy.
func setup(t *testing.T) (*faultproxy.Proxy, net.Conn, *bufio.Reader) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() { echo(ln) })
	p, err := faultproxy.Listen("127.0.0.1:0", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		_ = ln.Close()
		wg.Wait()
	})
	c := dial(t, p)
	return p, c, bufio.NewReader(c)
}

func dial(t *testing.T, p *faultproxy.Proxy) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func echo(ln net.Listener) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		wg.Go(func() {
			defer c.Close()
			_, _ = io.Copy(c, c)
		})
	}
}

// roundTrip sends a line and returns its echo, with how long it took.
func roundTrip(t *testing.T, c net.Conn, r *bufio.Reader, line string) (string, time.Duration, error) {
	t.Helper()
	start := time.Now()
	if _, err := c.Write([]byte(line + "\n")); err != nil {
		return "", 0, err
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got, err := r.ReadString('\n')
	return string(bytes.TrimSuffix([]byte(got), []byte("\n"))), time.Since(start), err
}

func TestRelays(t *testing.T) {
	t.Parallel()
	_, c, r := setup(t)
	if got, _, err := roundTrip(t, c, r, "hello"); err != nil || got != "hello" {
		t.Fatalf("round trip = %q, %v; want hello", got, err)
	}
}

func TestLatencyDelaysEachWay(t *testing.T) {
	t.Parallel()
	p, c, r := setup(t)
	p.SetLatency(100 * time.Millisecond)
	_, took, err := roundTrip(t, c, r, "slow")
	if err != nil {
		t.Fatal(err)
	}
	if took < 200*time.Millisecond {
		t.Errorf("round trip with 100ms latency each way took %v, want at least 200ms", took)
	}
	p.SetLatency(0)
	if _, took, _ := roundTrip(t, c, r, "fast"); took > 150*time.Millisecond {
		t.Errorf("round trip without latency took %v", took)
	}
}

func TestFreezeHoldsBytesUntilThaw(t *testing.T) {
	t.Parallel()
	p, c, r := setup(t)
	p.Freeze()
	if _, err := c.Write([]byte("held\n")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, err := r.ReadString('\n'); errTimeout(err) == nil {
		t.Fatalf("read while frozen: %v, want a timeout", err)
	}
	p.Thaw()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if got, err := r.ReadString('\n'); err != nil || got != "held\n" {
		t.Fatalf("after Thaw read %q, %v; want the held line", got, err)
	}
}

// errTimeout returns err if it is a timeout, nil otherwise.
func errTimeout(err error) error {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return err
	}
	return nil
}

func TestCutClosesOpenConnections(t *testing.T) {
	t.Parallel()
	p, c, r := setup(t)
	if _, _, err := roundTrip(t, c, r, "before"); err != nil {
		t.Fatal(err)
	}
	if n := p.Cut(); n != 1 {
		t.Errorf("Cut closed %d links, want 1", n)
	}
	if _, _, err := roundTrip(t, c, r, "after"); err == nil {
		t.Errorf("round trip on a cut connection succeeded")
	}
	c2 := dial(t, p)
	if got, _, err := roundTrip(t, c2, bufio.NewReader(c2), "new"); err != nil || got != "new" {
		t.Errorf("new connection after Cut: %q, %v", got, err)
	}
}

func TestDropReplyLosesTheReplyAndCuts(t *testing.T) {
	t.Parallel()
	p, c, r := setup(t)
	p.DropReply(func(b []byte) bool { return bytes.Contains(b, []byte("lost")) })
	if _, _, err := roundTrip(t, c, r, "lost"); err == nil {
		t.Fatalf("the dropped reply arrived")
	}
	c2 := dial(t, p)
	if got, _, err := roundTrip(t, c2, bufio.NewReader(c2), "lost"); err != nil || got != "lost" {
		t.Errorf("second reply (the match is used up): %q, %v", got, err)
	}
	if s := p.Stats(); s.Accepted != 2 || s.Cut != 1 {
		t.Errorf("Stats = %+v, want 2 accepted, 1 cut", s)
	}
}

func TestTargetDownClosesTheClient(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close() // nothing listens there now
	p, err := faultproxy.Listen("127.0.0.1:0", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	c := dial(t, p)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil || errTimeout(err) != nil {
		t.Errorf("read from a proxy whose target is down: %v, want the connection closed", err)
	}
}
