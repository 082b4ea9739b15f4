// Command postgres is the README's exactly-once example: the order row and
// the dedupe record commit in one PostgreSQL transaction. Run it against
// `make services` (or set IDEMQ_POSTGRES_URL):
//
//	go run ./examples/postgres
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/dedupe/pgstore"
)

func main() {
	url := getenv("IDEMQ_POSTGRES_URL", "postgres://idemq@127.0.0.1:15432/idemq?sslmode=disable")
	if err := run(context.Background(), url, fmt.Sprintf("example_%d", time.Now().UnixNano())); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, url, table string) error {
	pool, err := pgxpool.New(ctx, url)
	if err != nil {
		return err
	}
	defer pool.Close()
	store, err := pgstore.New(pool, "orders-service", pgstore.WithTable(table+"_keys"))
	if err != nil {
		return err
	}
	if err := store.Migrate(ctx); err != nil { // or apply the DDL of pgstore.Schema by hand
		return err
	}
	if _, err := pool.Exec(ctx, "CREATE TABLE "+table+" (id text PRIMARY KEY, total int)"); err != nil {
		return err
	}

	placeOrder := func(ctx context.Context, tx pgx.Tx) (string, error) {
		_, err := tx.Exec(ctx, "INSERT INTO "+table+" (id, total) VALUES ('order-1', 42)")
		return "order-1", err // committed with the row above, or not at all
	}
	for range 2 { // the same request, twice
		id, err := pgstore.Run(ctx, store, "request-123", placeOrder)
		var dup *dedupe.ConflictError[string]
		switch {
		case errors.As(err, &dup):
			fmt.Println("duplicate: already done as", dup.Value)
		case err != nil:
			return err // the database failed or the commit's outcome is unknown: retry later
		default:
			fmt.Println("placed", id)
		}
	}
	var orders int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&orders); err != nil {
		return err
	}
	fmt.Println("orders in the database:", orders)
	return nil
}

func getenv(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
