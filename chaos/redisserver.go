package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

// redisServer is the run's own redis-server, with AOF (appendfsync
// everysec, as docker-compose.yml runs it) in the run directory. The shared
// test Redis is never touched: this one is SIGKILLed and started again on
// the same port and directory, and may lose its last second of writes.
type redisServer struct {
	bin, dir string
	port     int
	cmd      *exec.Cmd
	exited   chan struct{}
	aof      *aofWatch // while running
}

// startRedisServer starts redis-server on a free loopback port.
func startRedisServer(ctx context.Context, bin, dir string) (*redisServer, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &redisServer{bin: bin, dir: dir, port: port}
	return s, s.start(ctx)
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("chaos: finding a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (s *redisServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// start runs the server and waits until it answers PING (after loading its
// AOF on a restart).
func (s *redisServer) start(ctx context.Context) error {
	cmd := exec.Command(s.bin, "--bind", "127.0.0.1", "--port", strconv.Itoa(s.port), "--dir", s.dir,
		"--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no",
		"--auto-aof-rewrite-percentage", "0", // one AOF file for the whole run: a crash cuts it back

		"--logfile", filepath.Join(s.dir, "redis.log"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the run
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("chaos: starting %s: %w", s.bin, err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.exited) }()
	client := redis.NewClient(&redis.Options{Addr: s.addr(), MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer client.Close()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	err := poll(ctx, 20*time.Millisecond, func() (bool, error) {
		err := client.Ping(ctx).Err()
		return err == nil, err
	})
	if err != nil {
		return fmt.Errorf("chaos: redis-server on %s does not answer (log: %s/redis.log): %w", s.addr(), s.dir, err)
	}
	s.aof = watchAOF(s.dir, s.exited)
	return nil
}

// kill SIGKILLs the server and waits until it is gone.
func (s *redisServer) kill() error {
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		return fmt.Errorf("chaos: killing redis-server: %w", err)
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(10 * time.Second):
		return fmt.Errorf("chaos: redis-server did not die within 10s of SIGKILL")
	}
}

// crash SIGKILLs the server as a host crash would end it: the AOF loses
// what was written in the last lost (appendfsync everysec has fsynced the
// file up to about a second before; a SIGKILL alone loses nothing the
// kernel already has). It returns the bytes cut from the AOF.
func (s *redisServer) crash(lost time.Duration) (int64, error) {
	cutAt := time.Now().Add(-lost)
	if err := s.kill(); err != nil {
		return 0, err
	}
	return s.aof.cutBack(cutAt)
}

// stop ends the server with SIGTERM (SIGKILL after 10s).
func (s *redisServer) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.kill()
	}
}
