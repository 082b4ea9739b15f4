package main

import (
	"fmt"

	"github.com/alicebob/miniredis/v2"
	"github.com/twmb/franz-go/pkg/kfake"
)

// startKafka starts an in-process Kafka-protocol broker (franz-go's kfake)
// on a free loopback port. Its data lives in memory.
func startKafka() (addrs []string, stop func(), err error) {
	c, err := kfake.NewCluster(kfake.Ports(0))
	if err != nil {
		return nil, nil, fmt.Errorf("demo: starting the in-process Kafka broker: %w", err)
	}
	return c.ListenAddrs(), c.Close, nil
}

// startRedis starts an in-process Redis-compatible server (miniredis) on a
// free loopback port.
func startRedis() (addr string, stop func(), err error) {
	s := miniredis.NewMiniRedis()
	if err := s.Start(); err != nil {
		return "", nil, fmt.Errorf("demo: starting the in-process Redis server: %w", err)
	}
	return s.Addr(), s.Close, nil
}
