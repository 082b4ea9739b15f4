package dedupe_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/idemq/idemq/dedupe"
)

type OrderID string

type Order struct {
	ID    OrderID
	Total int
}

// The first run of a key does the work and commits its value; a duplicate
// does not run and gets the winner's value in a *ConflictError.
func Example() {
	ctx := context.Background()
	store := dedupe.NewMemoryStore() // redisstore.New(client) across processes
	defer store.Close()

	placeOrder := func(ctx context.Context, end dedupe.End[OrderID]) (Order, error) {
		order := Order{ID: "order-1", Total: 42} // validate, reserve, charge...
		end(order.ID)                            // commit the idempotency value
		return order, nil
	}

	order, err := dedupe.Run(ctx, store, "request-123", placeOrder)
	fmt.Println("first:", order.ID, err)

	_, err = dedupe.Run(ctx, store, "request-123", placeOrder)
	var conflict *dedupe.ConflictError[OrderID]
	if errors.As(err, &conflict) {
		fmt.Println("duplicate: already done as", conflict.Value)
	}
	// Output:
	// first: order-1 <nil>
	// duplicate: already done as order-1
}

// In claim-first mode only one owner runs at a time; a duplicate that
// arrives while the owner works waits for its outcome, or, with WithNoWait,
// returns ErrInProgress at once.
func ExampleWithClaim() {
	ctx := context.Background()
	store := dedupe.NewMemoryStore()
	defer store.Close()

	working, finish := make(chan struct{}), make(chan struct{})
	done := make(chan error)
	go func() {
		_, err := dedupe.Run(ctx, store, "payment-7", func(ctx context.Context, end dedupe.End[string]) (int, error) {
			close(working)
			<-finish // charging the card...
			end("charged")
			return 0, nil
		}, dedupe.WithClaim(30*time.Second))
		done <- err
	}()
	<-working

	_, err := dedupe.Run(ctx, store, "payment-7", func(ctx context.Context, end dedupe.End[string]) (int, error) {
		panic("not reached: the key is claimed")
	}, dedupe.WithClaim(30*time.Second), dedupe.WithNoWait())
	fmt.Println("while the owner works:", errors.Is(err, dedupe.ErrInProgress))

	close(finish)
	fmt.Println("owner:", <-done)
	// Output:
	// while the owner works: true
	// owner: <nil>
}

// The batch path claims many keys in one round trip, commits what has ended
// in one round trip, and single-flights a key that occurs twice: the second
// ticket waits in memory for the first and gets its value.
func ExampleBatch() {
	ctx := context.Background()
	store := dedupe.NewMemoryStore()
	defer store.Close()
	batch, err := dedupe.NewBatch[string](store, dedupe.WithClaim(30*time.Second))
	if err != nil {
		panic(err)
	}
	defer batch.Close()

	// A fetched batch of messages; order-2 was sent twice.
	tickets, err := batch.Claim(ctx, "order-1", "order-2", "order-2")
	if err != nil {
		panic(err) // nothing claimed: retry the whole batch later
	}
	for _, t := range tickets {
		if t.Err() != nil {
			continue // not ours to run: a duplicate, or in progress
		}
		if err := t.Start(ctx); err != nil { // the claim on the full lease, confirmed
			if err := t.Release(); err != nil {
				panic(err)
			}
			continue // retry later
		}
		work, cancel := t.Context(ctx) // cancelled if the lease is lost
		_ = work                       // charge the card...
		cancel()
		if err := t.End("receipt for " + t.Key()); err != nil {
			panic(err)
		}
	}
	for _, t := range tickets {
		err := t.Err()
		switch {
		case err == nil:
			err = t.Result(ctx) // the commit's outcome
		case errors.Is(err, dedupe.ErrInProgress):
			err = t.Await(ctx) // the other owner's outcome
		}
		var dup *dedupe.ConflictError[string]
		switch {
		case err == nil:
			fmt.Println(t.Key(), "processed: ack")
		case errors.As(err, &dup):
			fmt.Println(t.Key(), "duplicate: ack;", dup.Value)
		default:
			fmt.Println(t.Key(), "unknown: retry;", err)
		}
	}
	// Output:
	// order-1 processed: ack
	// order-2 processed: ack
	// order-2 duplicate: ack; receipt for order-2
}

// A fingerprint of the payload catches a producer that reuses a key for a
// different order: that is a *KeyReusedError, not a duplicate.
func ExampleWithFingerprint() {
	ctx := context.Background()
	store := dedupe.NewMemoryStore()
	defer store.Close()
	charge := func(ctx context.Context, end dedupe.End[string]) (string, error) {
		end("receipt-1")
		return "receipt-1", nil
	}

	_, err := dedupe.Run(ctx, store, "order-7", charge, dedupe.WithFingerprint([]byte("10 EUR")))
	fmt.Println("first:", err)

	_, err = dedupe.Run(ctx, store, "order-7", charge, dedupe.WithFingerprint([]byte("10 EUR")))
	fmt.Println("same payload is a duplicate:", errors.Is(err, dedupe.ErrConflict))

	_, err = dedupe.Run(ctx, store, "order-7", charge, dedupe.WithFingerprint([]byte("99 EUR")))
	var reused *dedupe.KeyReusedError
	fmt.Println("other payload is reused:", errors.As(err, &reused))
	// Output:
	// first: <nil>
	// same payload is a duplicate: true
	// other payload is reused: true
}
