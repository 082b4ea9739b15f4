package main

import (
	"context"
	"errors"
	"net"
	"testing"
)

// TestKillSwitchCut proves that Cut breaks the connections it dialled and
// refuses new ones, as a crash would.
func TestKillSwitchCut(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	k := newKillSwitch()
	c, err := k.DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	server := <-accepted
	defer server.Close()

	k.Cut()
	if _, err := server.Read(make([]byte, 1)); err == nil {
		t.Errorf("server read after Cut succeeded, want EOF")
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Errorf("client write after Cut succeeded, want an error")
	}
	if _, err := k.Dial("tcp", ln.Addr().String()); !errors.Is(err, errKilled) {
		t.Errorf("dial after Cut = %v, want errKilled", err)
	}
}
