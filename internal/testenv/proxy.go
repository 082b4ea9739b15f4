package testenv

import (
	"testing"

	"github.com/idemq/idemq/internal/faultproxy"
)

// Proxy is a TCP relay on loopback between clients and one server, for
// fault injection (internal/faultproxy): it can freeze every link, lose the
// next reply, cut every connection or add latency. Point a client at Addr
// instead of the server.
type Proxy = faultproxy.Proxy

// NewProxy starts a proxy to target (host:port), stopped at the end of the test.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	p, err := faultproxy.Listen("127.0.0.1:0", target)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	t.Cleanup(func() { _ = p.Close() })
	return p
}
