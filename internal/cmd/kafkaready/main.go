// Command kafkaready exits 0 once a Kafka broker answers a metadata request
// that lists at least one broker, and 1 otherwise. scripts/services.sh polls
// it to decide that the broker it started is ready.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	kafkago "github.com/segmentio/kafka-go"
)

func main() {
	brokers := flag.String("brokers", "127.0.0.1:9092", "broker address")
	timeout := flag.Duration("timeout", 2*time.Second, "how long one probe may take")
	flag.Parse()
	if err := probe(*brokers, *timeout); err != nil {
		fmt.Fprintln(os.Stderr, "kafkaready:", err)
		os.Exit(1)
	}
}

func probe(addr string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	conn, err := (&kafkago.Dialer{Timeout: timeout}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	brokers, err := conn.Brokers()
	if err != nil {
		return err
	}
	if len(brokers) == 0 {
		return fmt.Errorf("metadata from %s lists no broker", addr)
	}
	return nil
}
