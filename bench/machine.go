package main

import (
	"os"
	"runtime"
	"strings"
	"time"
)

// results are what the report is written from.
type results struct {
	opts    options
	started time.Time
	elapsed time.Duration
	machine machine
	loadEnd string // 1-minute load average when the rounds ended
	env     *services
	rows    []*row
}

// machine says where the run ran.
type machine struct {
	cpus          int
	goos, goarch  string
	goVersion     string
	redis, valkey string // from INFO server; "" when not used
	postgres      string // from server_version; "" when not used
	kafka         string // from the broker's log; "" when not used
	loadStart     string // 1-minute load average when the run started
}

func describe(env *services) machine {
	m := machine{cpus: runtime.NumCPU(), goos: runtime.GOOS, goarch: runtime.GOARCH, goVersion: runtime.Version(),
		loadStart: loadAverage()}
	if env.redis != nil {
		m.redis = env.redis.version
	}
	if env.valkey != nil {
		m.valkey = env.valkey.version
	}
	if env.pg != nil {
		m.postgres = env.pg.version
	}
	if env.kafka != nil {
		m.kafka = kafkaVersion()
	}
	return m
}

// loadAverage is the 1-minute load average (Linux), or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "unknown"
}
