package testenv

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// OwnRedis starts a redis-server of the test's own on a free loopback port
// (no persistence) and returns it, for a test that faults the server (a
// CLIENT PAUSE, a DEBUG SLEEP): the shared server of IDEMQ_REDIS_ADDR is
// never faulted, other tests use it at the same time. The binary is
// redis-server from PATH, or IDEMQ_REDIS_SERVER; without one the test is
// skipped (it fails with IDEMQ_REQUIRE_SERVICES=1). The server is stopped
// at the end of the test, after the clients and the prefix cleanup the
// returned RedisServer registers.
func OwnRedis(t testing.TB) RedisServer {
	t.Helper()
	bin := os.Getenv("IDEMQ_REDIS_SERVER")
	if bin == "" {
		bin = "redis-server"
	}
	path, err := exec.LookPath(bin)
	if err != nil {
		Missing(t, "a redis-server binary", "IDEMQ_REDIS_SERVER", err.Error())
	}
	var errs []error
	for range 3 { // a free port may be taken between the probe and the server's bind
		addr, err := startRedisServer(t, path)
		if err == nil {
			return newRedisServer(t, []string{addr}, false)
		}
		errs = append(errs, err)
	}
	t.Fatalf("testenv: %v", errors.Join(errs...))
	return RedisServer{}
}

// startRedisServer starts one server on a free port, stopped at cleanup,
// and returns its address once it answers.
func startRedisServer(t testing.TB, bin string) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	dir := t.TempDir()
	addr := "127.0.0.1:" + strconv.Itoa(port)
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--dir", dir,
		"--save", "", "--appendonly", "no", "--daemonize", "no", "--logfile", filepath.Join(dir, "redis.log"))
	cmd.SysProcAttr = dieWithParent()
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("starting %s: %w", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		select {
		case <-exited:
			log, _ := os.ReadFile(filepath.Join(dir, "redis.log"))
			return "", fmt.Errorf("redis-server on %s exited: %s", addr, lastLines(string(log), 3))
		default:
		}
		if answers(addr) {
			t.Cleanup(stop)
			return addr, nil
		}
		if time.Now().After(deadline) {
			stop()
			return "", fmt.Errorf("redis-server on %s does not answer after 10s", addr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// answers reports whether a server on addr replies +PONG to PING.
func answers(addr string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	buf := make([]byte, 7)
	n, _ := c.Read(buf)
	return string(buf[:n]) == "+PONG\r\n"
}

// lastLines returns the last n non-empty lines of s, joined by " | ".
func lastLines(s string, n int) string {
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' })
	return strings.Join(lines[max(len(lines)-n, 0):], " | ")
}
