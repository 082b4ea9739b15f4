// Package consumer is the vocabulary idemq's adapters share: what happens to
// a message without a valid key (KeyPolicy), which messages of a partition
// run at once (Ordering), the retry Backoff, a message's final Outcome, the
// guard's settings (Guard) and the error for a configuration an adapter
// cannot run with (ConfigError).
//
// Each adapter's Config takes these types; where an adapter does not
// support a value, its constant's doc says so and the adapter's constructor
// refuses it with a *ConfigError:
//
//	cfg := idemqkafka.Config[Order]{
//		Store:      store,
//		Handle:     handle,
//		Ordering:   consumer.ByKey,
//		InvalidKey: consumer.KeyDeadLetter,
//		Guard:      consumer.Guard{Lease: time.Minute},
//	}
//
// The package imports no broker and no store client.
package consumer
