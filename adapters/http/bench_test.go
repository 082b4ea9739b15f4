package idemqhttp_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	idemqhttp "github.com/idemq/idemq/adapters/http"
	"github.com/idemq/idemq/internal/testenv"
)

// benchClients is how many clients send requests at once, each waiting
// for its answer before the next.
const benchClients = 64

// BenchmarkMiddleware measures a real HTTP server (httptest, keep-alive
// connections) with 64 concurrent clients, every request a POST with a new
// key: (a) the bare handler, (b) the middleware on a MemoryStore, (c) on
// the real Redis. It reports requests per second, this process's CPU
// (client and server together: getrusage user + sys) per request, the
// latency p50 and p99 and, for (b) and (c), the ratios to (a) of the same
// run (x-bare: throughput, cpu-x-bare: CPU per request); (c) adds Redis's
// own CPU per request (INFO cpu: a shared server may count others' work).
//
//	go test -run '^$' -bench BenchmarkMiddleware -benchtime 20000x -count 3 ./adapters/http/
func BenchmarkMiddleware(b *testing.B) {
	srv := testenv.Redis(b)
	var bare benchResult
	b.Run("Bare", func(b *testing.B) {
		bare = benchServer(b, benchHandler())
	})
	b.Run("Memory", func(b *testing.B) {
		m := newMiddleware(b, memoryStore(b), idemqhttp.Config{})
		benchServer(b, m.Handler(benchHandler())).compare(b, bare)
	})
	b.Run("Redis", func(b *testing.B) {
		m := newMiddleware(b, redisStore(b, srv), idemqhttp.Config{})
		before := redisCPU(b, srv)
		r := benchServer(b, m.Handler(benchHandler()))
		r.compare(b, bare)
		b.ReportMetric((redisCPU(b, srv)-before).Seconds()*1e6/float64(b.N), "redis-cpu-µs/req")
	})
}

// benchHandler reads the body and answers 201 with a Location and a small
// JSON body, as a create does.
func benchHandler() http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		id := n.Add(1)
		w.Header().Set("Location", "/orders/"+strconv.FormatInt(id, 10))
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":%d,"status":"created"}`, id)
	})
}

// benchResult is one run's figures.
type benchResult struct {
	rate, cpuPerReq float64 // requests/s, CPU µs per request
}

// compare reports r's ratios to the bare handler's run (when it ran).
func (r benchResult) compare(b *testing.B, bare benchResult) {
	if bare.rate > 0 {
		b.ReportMetric(r.rate/bare.rate, "x-bare")
		b.ReportMetric(r.cpuPerReq/bare.cpuPerReq, "cpu-x-bare")
	}
}

var benchRun atomic.Int64

// benchServer sends b.N POSTs with new keys to a server of h from 64
// clients and reports the figures.
func benchServer(b *testing.B, h http.Handler) benchResult {
	api := serve(b, h)
	tr := api.Client().Transport.(*http.Transport)
	tr.MaxIdleConnsPerHost = benchClients
	prefix := "bench-" + strconv.FormatInt(benchRun.Add(1), 10) + "-"
	var next atomic.Int64
	latencies := make([][]time.Duration, benchClients)
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0, start := processCPU(), time.Now()
	for c := range benchClients {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				t0 := time.Now()
				if err := benchPost(api.URL, api.Client(), prefix+strconv.FormatInt(i, 10)); err != nil {
					b.Error(err)
					return
				}
				latencies[c] = append(latencies[c], time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed, cpu := time.Since(start), processCPU()-cpu0
	b.StopTimer()
	all := slices.Sorted(slices.Values(slices.Concat(latencies...)))
	r := benchResult{rate: float64(b.N) / elapsed.Seconds(), cpuPerReq: cpu.Seconds() * 1e6 / float64(b.N)}
	b.ReportMetric(r.rate, "req/s")
	b.ReportMetric(r.cpuPerReq, "cpu-µs/req")
	if len(all) > 0 {
		b.ReportMetric(float64(all[len(all)/2].Microseconds()), "p50-µs")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds()), "p99-µs")
	}
	tr.CloseIdleConnections()
	return r
}

func benchPost(url string, c *http.Client, key string) error {
	req, err := http.NewRequest(http.MethodPost, url+"/orders", strings.NewReader(`{"item":"book","qty":2}`))
	if err != nil {
		return err
	}
	req.Header.Set("Idempotency-Key", key)
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("status %d", res.StatusCode)
	}
	return nil
}

// processCPU is this process's CPU time so far, user and system.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// redisCPU is the Redis server's CPU time so far (used_cpu_user +
// used_cpu_sys).
func redisCPU(b *testing.B, srv testenv.RedisServer) time.Duration {
	info, err := srv.Client.Info(context.Background(), "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\r\n") {
		name, v, _ := strings.Cut(line, ":")
		if name == "used_cpu_user" || name == "used_cpu_sys" {
			f, _ := strconv.ParseFloat(v, 64)
			total += f
		}
	}
	return time.Duration(total * float64(time.Second))
}
