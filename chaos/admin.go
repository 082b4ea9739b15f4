package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	kafkago "github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// admin is the run's own connection to the broker, not through the fault
// proxy: internal/kafkaadmin's calls (topics, lag, cleanup) go through its
// kafka-go client, and it tells whether a group is stable.
type admin struct {
	client    *kafkago.Client
	transport *kafkago.Transport
	groups    *kgo.Client // DescribeGroups, whose members kafka-go cannot decode when they are franz-go's
}

func newAdmin(addr string) (*admin, error) {
	groups, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ClientID("chaos-admin"))
	if err != nil {
		return nil, fmt.Errorf("chaos: %w", err)
	}
	t := &kafkago.Transport{ClientID: "chaos-admin"}
	return &admin{client: &kafkago.Client{Addr: kafkago.TCP(addr), Transport: t, Timeout: 10 * time.Second}, transport: t,
		groups: groups}, nil
}

func (a *admin) close() {
	a.transport.CloseIdleConnections()
	a.groups.Close()
}

// stable reports whether group is Stable with n members. It reads the
// group with franz-go's raw request: kafka-go's DescribeGroups fails on
// the member metadata of franz-go's cooperative-sticky members.
func (a *admin) stable(ctx context.Context, group string, n int) (bool, error) {
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = []string{group}
	res, err := req.RequestWith(ctx, a.groups)
	if err != nil {
		return false, err
	}
	if len(res.Groups) != 1 || res.Groups[0].ErrorCode != 0 {
		return false, nil
	}
	g := res.Groups[0]
	return g.State == "Stable" && len(g.Members) == n, nil
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
