package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// services are the servers this run talks to, each connected only when a
// selected row needs it.
type services struct {
	opts   options
	runID  string  // unique to this run: in every topic, group and key prefix
	redis  *server // IDEMQ_REDIS_ADDR, Redis 7.0
	valkey *server // IDEMQ_VALKEY_ADDR, Valkey 8.1
	kafka  *kafkaCluster
	pg     *pgServer // IDEMQ_POSTGRES_URL, PostgreSQL 15
}

// need says which services a row uses.
type need int

const (
	needKafka need = 1 << iota
	needRedis
	needValkey
	needPostgres
)

// connect reaches every service the rows need, or says which variable is
// missing and how to set it.
func connect(ctx context.Context, opts options, rows []*row) (*services, error) {
	env := &services{opts: opts, runID: newRunID()}
	var needs need
	for _, r := range rows {
		needs |= r.needs
	}
	var err error
	if needs&needRedis != 0 {
		env.redis, err = dialServer(ctx, "redis", "IDEMQ_REDIS_ADDR", env.runID)
	}
	if err == nil && needs&needValkey != 0 {
		env.valkey, err = dialServer(ctx, "valkey", "IDEMQ_VALKEY_ADDR", env.runID)
	}
	if err == nil && needs&needPostgres != 0 {
		env.pg, err = dialPostgres(ctx, env.runID)
	}
	if err == nil && needs&needKafka != 0 {
		env.kafka, err = dialKafka(ctx, env.runID)
	}
	if err != nil {
		env.close(io.Discard)
		return nil, err
	}
	return env, nil
}

// addrsFromEnv returns the comma-separated addresses in the variable, or an
// error naming `make services`.
func addrsFromEnv(name string) ([]string, error) {
	var addrs []string
	for _, a := range strings.Split(os.Getenv(name), ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	if addrs == nil {
		return nil, fmt.Errorf("%s is not set: run `make services` and export the variables it prints "+
			"(or run `make bench`, which does both)", name)
	}
	return addrs, nil
}

// close deletes what the run created and closes every client; it logs and
// returns what failed.
func (env *services) close(log io.Writer) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var errs []error
	for _, s := range []*server{env.redis, env.valkey} {
		if s != nil {
			errs = append(errs, s.close(ctx))
		}
	}
	if env.pg != nil {
		errs = append(errs, env.pg.close(ctx))
	}
	if env.kafka != nil {
		errs = append(errs, env.kafka.close(ctx))
	}
	err := errors.Join(errs...)
	if err != nil {
		fmt.Fprintln(log, "bench: cleanup:", err)
	}
	return err
}

// setup creates what the rows share: the Kafka topics.
func (env *services) setup(ctx context.Context, log io.Writer) error {
	if env.kafka == nil {
		return nil
	}
	return env.kafka.produceTopics(ctx, env.opts, log)
}

func newRunID() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return time.Now().UTC().Format("20060102t150405") + "-" + hex.EncodeToString(b[:])
}
