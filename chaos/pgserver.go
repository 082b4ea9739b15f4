package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgServer is the run's own PostgreSQL (-store postgres): a cluster
// initdb'd in the run directory, its postmaster a child of the run on a
// free loopback port. The shared test PostgreSQL is never touched. A
// restart is what `pg_ctl stop -m immediate` does, SIGQUIT to the
// postmaster (every backend quits without a checkpoint: crash recovery at
// the next start), then a start on the same port and data directory.
type pgServer struct {
	bin, dir string // Debian's binaries; the cluster's directory (data/, socket, log)
	port     int
	cred     *syscall.Credential // root: run as the user postgres (initdb and postgres refuse root)
	cmd      *exec.Cmd
	exited   chan struct{}
}

// pgUser is the role initdb creates (trust authentication on loopback).
const pgUser = "idemq"

// workerAppPrefix starts the application_name of every worker's session:
// what a backend termination matches.
const workerAppPrefix = "chaos-worker-"

// startPGServer initdb's a cluster in dir and starts it on a free port.
func startPGServer(ctx context.Context, bin, dir string) (*pgServer, error) {
	s := &pgServer{bin: bin, dir: dir}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("chaos: running as root, PostgreSQL needs the user postgres: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		// The run directory (a 0700 temp dir) must be reachable for it.
		if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
			return nil, err
		}
		if err := os.Chown(dir, uid, gid); err != nil {
			return nil, err
		}
	}
	initdb := s.command("initdb", "-D", s.data(), "-U", pgUser, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("chaos: initdb in %s: %w\n%s", s.data(), err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s.port = port
	return s, s.start(ctx)
}

func (s *pgServer) data() string { return filepath.Join(s.dir, "data") }

func (s *pgServer) addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// url is the connection URL of the server at addr (the server itself, or
// the proxy in front of it).
func pgURL(addr string) string {
	return "postgres://" + pgUser + "@" + addr + "/postgres?sslmode=disable"
}

func (s *pgServer) command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(s.bin, name), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred, Pdeathsig: syscall.SIGKILL} // never outlives the run
	return cmd
}

// start runs the postmaster and waits until it takes connections (after
// its crash recovery, on a restart).
func (s *pgServer) start(ctx context.Context) error {
	logFile, err := os.OpenFile(filepath.Join(s.dir, "postgres.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close()
	cmd := s.command("postgres", "-D", s.data(), "-p", strconv.Itoa(s.port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200")
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("chaos: starting postgres: %w", err)
	}
	s.cmd, s.exited = cmd, make(chan struct{})
	go func() { _ = cmd.Wait(); close(s.exited) }()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	err = poll(ctx, 50*time.Millisecond, func() (bool, error) {
		select {
		case <-s.exited:
			return false, fmt.Errorf("postgres exited")
		default:
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		conn, err := pgx.Connect(cctx, pgURL(s.addr()))
		if err != nil {
			return false, nil
		}
		_ = conn.Close(cctx)
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("chaos: postgres on %s does not answer (log: %s/postgres.log): %w", s.addr(), s.dir, err)
	}
	return nil
}

// stopImmediate is `pg_ctl stop -m immediate`: SIGQUIT to the postmaster,
// and wait until it is gone.
func (s *pgServer) stopImmediate() error {
	return s.signal(syscall.SIGQUIT, 20*time.Second)
}

func (s *pgServer) signal(sig syscall.Signal, wait time.Duration) error {
	if err := s.cmd.Process.Signal(sig); err != nil {
		return fmt.Errorf("chaos: %v to postgres: %w", sig, err)
	}
	select {
	case <-s.exited:
		return nil
	case <-time.After(wait):
		return fmt.Errorf("chaos: postgres did not exit within %v of %v", wait, sig)
	}
}

// stop is a fast shutdown (SIGINT; SIGKILL after 10s).
func (s *pgServer) stop() {
	if s.signal(syscall.SIGINT, 10*time.Second) != nil {
		_ = s.signal(syscall.SIGKILL, 10*time.Second)
	}
}

// terminateWorkers ends every worker's session on the server
// (pg_terminate_backend), as an administrator or a failover would, and
// returns how many it ended.
func (s *pgServer) terminateWorkers(ctx context.Context) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgURL(s.addr()))
	if err != nil {
		return 0, fmt.Errorf("chaos: connecting to postgres: %w", err)
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE application_name LIKE $1 AND pid <> pg_backend_pid()`, workerAppPrefix+"%").Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("chaos: terminating the workers' backends: %w", err)
	}
	return n, nil
}
