package main

import (
	"io"
	"testing"
)

func TestParseFlags(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name        string
		args        []string
		wantErr     bool
		wantCompare bool
	}{
		{"EmbeddedComparesByDefault", nil, false, true},
		{"RealBrokerDoesNotCompareByDefault", []string{"-brokers", "kafka:9092"}, false, false},
		{"RealBrokerCompareOnRequest", []string{"-brokers", "kafka:9092", "-compare"}, false, true},
		{"EmbeddedCompareOff", []string{"-compare=false"}, false, false},
		{"UnknownMode", []string{"-mode", "rabbit"}, true, true},
		{"DuplicateRateTooHigh", []string{"-duplicates", "1"}, true, true},
		{"TooFewMessages", []string{"-messages", "3"}, true, true},
		{"BraceInPrefix", []string{"-prefix", "a{b}:"}, true, true},
		{"StrayArgument", []string{"now"}, true, true},
		{"TooManyMessages", []string{"-messages", "100000000"}, true, true},
		{"NoConsumers", []string{"-consumers", "0"}, true, true},
		{"TooManyPartitions", []string{"-partitions", "5000"}, true, true},
		{"BadTopicName", []string{"-topic", "orders/eu"}, true, true},
		{"BadGroupName", []string{"-group", "a b"}, true, true},
		{"EmptyBroker", []string{"-brokers", "kafka:9092,"}, true, true},
		{"NegativeWork", []string{"-work", "-1s"}, true, true},
		{"ZeroTimeout", []string{"-timeout", "0"}, true, true},
		{"Postgres", []string{"-postgres", "postgres://u@db:5432/d", "-redis", "redis:6379"}, false, true},
		{"PostgresWithoutRedis", []string{"-postgres", "postgres://u@db:5432/d"}, true, true},
		{"PostgresWithWatermill", []string{"-postgres", "postgres://u@db:5432/d", "-redis", "redis:6379", "-mode", "watermill"}, true, true},
		{"BadPostgresURL", []string{"-postgres", "postgres://u@db:notaport/d", "-redis", "redis:6379"}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg, err := parseFlags(tc.args, io.Discard)
			if gotErr := err != nil; gotErr != tc.wantErr {
				t.Fatalf("parseFlags(%q) error = %v, want error: %v", tc.args, err, tc.wantErr)
			}
			if !tc.wantErr && cfg.Compare != tc.wantCompare {
				t.Errorf("Compare = %v, want %v", cfg.Compare, tc.wantCompare)
			}
		})
	}
}

func TestRedisOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		addr      string
		wantAddrs []string
		wantDB    int
	}{
		{"127.0.0.1:6379", []string{"127.0.0.1:6379"}, 0},
		{"a:7001,b:7002", []string{"a:7001", "b:7002"}, 0},
		{"redis://:secret@redis:6379/2", []string{"redis:6379"}, 2},
	} {
		o, err := redisOptions(tc.addr)
		if err != nil {
			t.Errorf("redisOptions(%q): %v", tc.addr, err)
			continue
		}
		if len(o.Addrs) != len(tc.wantAddrs) || o.Addrs[0] != tc.wantAddrs[0] || o.DB != tc.wantDB {
			t.Errorf("redisOptions(%q) = Addrs %q DB %d, want %q DB %d", tc.addr, o.Addrs, o.DB, tc.wantAddrs, tc.wantDB)
		}
	}
}
