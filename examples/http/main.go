// Command http is the README's Idempotency-Key example: POST /orders
// behind idemqhttp on Redis. The first request charges and answers 201
// with a Location, a retry while it runs gets 409, and a retry after it
// gets the same 201 without a second charge. Run it against `make
// services` (or set IDEMQ_REDIS_ADDR):
//
//	go run ./examples/http
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	idemqhttp "github.com/idemq/idemq/adapters/http"
	"github.com/idemq/idemq/dedupe/redisstore"
)

func main() {
	if err := run(context.Background(), getenv("IDEMQ_REDIS_ADDR", "127.0.0.1:16379"), fmt.Sprintf("example-%d:", time.Now().UnixNano())); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, redisAddr, prefix string) error {
	client := redis.NewClient(&redis.Options{Addr: redisAddr})
	defer client.Close()
	store, err := redisstore.New(client, redisstore.WithPrefix(prefix)) // shared by every instance
	if err != nil {
		return err
	}
	defer store.Close()
	idem, err := idemqhttp.New(store, idemqhttp.Config{
		ScopeFunc: func(r *http.Request) string { return r.Header.Get("X-Account") }, // the client, once authenticated
	})
	if err != nil {
		return err
	}

	charging, proceed := make(chan struct{}), make(chan struct{})
	mux := http.NewServeMux()
	mux.Handle("POST /orders", idem.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(charging) // validate, reserve, charge...
		<-proceed       // (held until the example's concurrent retry got its answer)
		fmt.Println("charged")
		w.Header().Set("Location", "/orders/1")
		w.WriteHeader(http.StatusCreated)
	})))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Shutdown(ctx)

	url := "http://" + ln.Addr().String() + "/orders"
	first := make(chan error, 1)
	go func() { first <- post(ctx, url, "first:") }()
	<-charging
	if err := post(ctx, url, "retry while charging:"); err != nil { // 409
		return err
	}
	close(proceed)
	if err := <-first; err != nil {
		return err
	}
	return post(ctx, url, "retry:") // the stored 201, replayed
}

// post sends the order under its Idempotency-Key and prints the answer.
func post(ctx context.Context, url, what string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(`{"item":"book","total":42}`))
	if err != nil {
		return err
	}
	req.Header.Set("Idempotency-Key", `"order-1"`)
	req.Header.Set("X-Account", "acct-7")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	line := what + " " + res.Status
	if loc := res.Header.Get("Location"); loc != "" {
		line += " " + loc
	}
	if res.Header.Get(idemqhttp.ReplayedHeader) == "true" {
		line += " (replayed)"
	}
	fmt.Println(line)
	return err
}

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
