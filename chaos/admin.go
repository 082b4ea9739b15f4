package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

// admin is the run's own connection to the broker, not through the fault
// proxy: internal/kafkaadmin's calls (topics, lag, cleanup) go through its
// client, and it tells whether a group is stable.
type admin struct {
	client    *kafkago.Client
	transport *kafkago.Transport
}

func newAdmin(addr string) *admin {
	t := &kafkago.Transport{ClientID: "chaos-admin"}
	return &admin{client: &kafkago.Client{Addr: kafkago.TCP(addr), Transport: t, Timeout: 10 * time.Second}, transport: t}
}

func (a *admin) close() { a.transport.CloseIdleConnections() }

// stable reports whether group is Stable with n members.
func (a *admin) stable(ctx context.Context, group string, n int) (bool, error) {
	res, err := a.client.DescribeGroups(ctx, &kafkago.DescribeGroupsRequest{GroupIDs: []string{group}})
	if err != nil {
		return false, err
	}
	if len(res.Groups) != 1 || res.Groups[0].Error != nil {
		return false, nil
	}
	g := res.Groups[0]
	return g.GroupState == "Stable" && len(g.Members) == n, nil
}

// advertised returns the broker addresses that a metadata request sent to
// addr answers: through the Kafka proxy, the CHAOS listener's.
func advertised(ctx context.Context, addr string) ([]string, error) {
	t := &kafkago.Transport{ClientID: "chaos-probe"}
	defer t.CloseIdleConnections()
	c := &kafkago.Client{Addr: kafkago.TCP(addr), Transport: t, Timeout: 5 * time.Second}
	meta, err := c.Metadata(ctx, &kafkago.MetadataRequest{})
	if err != nil {
		return nil, err
	}
	var addrs []string
	for _, b := range meta.Brokers {
		addrs = append(addrs, fmt.Sprintf("%s:%d", b.Host, b.Port))
	}
	return addrs, nil
}

// poll calls check every interval until it reports true or ctx ends (then
// ctx's error, joined with check's last one).
func poll(ctx context.Context, interval time.Duration, check func() (bool, error)) error {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		ok, err := check()
		if ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.Join(ctx.Err(), err)
		case <-tick.C:
		}
	}
}
