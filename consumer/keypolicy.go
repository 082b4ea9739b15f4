package consumer

import "fmt"

// KeyPolicy says what an adapter does with a message without a valid
// idempotency key: its KeyFunc failed, or returned a key the store refuses
// (dedupe.ErrInvalidKey), or a key already committed for another payload
// (dedupe.KeyReusedError). The zero value is KeyReject.
type KeyPolicy int

const (
	// KeyReject refuses the message: the Kafka consumers stop with an
	// error naming it and do not commit its offset; the Watermill
	// middleware nacks it with a *KeyError (which a PoisonQueue can take).
	// The default.
	KeyReject KeyPolicy = iota
	// KeyProcess runs the handler without the guard: such messages are
	// processed at least once, not once.
	KeyProcess
	// KeyDeadLetter writes the message to the adapter's dead-letter sink
	// and commits its offset once the write is acknowledged. Kafka
	// adapters only (they require Config.DeadLetter); Watermill
	// dead-letters through its PoisonQueue middleware and KeyReject.
	KeyDeadLetter
	// KeySkip acknowledges the message without running the handler (the
	// Watermill publisher drops it). Watermill only: a Kafka consumer
	// keeps every message, so it takes KeyDeadLetter instead.
	KeySkip
)

func (p KeyPolicy) String() string {
	switch p {
	case KeyReject:
		return "reject"
	case KeyProcess:
		return "process"
	case KeyDeadLetter:
		return "dead-letter"
	case KeySkip:
		return "skip"
	}
	return fmt.Sprintf("KeyPolicy(%d)", int(p))
}

// Check returns a *ConfigError for field (named as in pkg's Config) when p
// is not one of allowed.
func (p KeyPolicy) Check(pkg, field string, allowed ...KeyPolicy) error {
	for _, a := range allowed {
		if p == a {
			return nil
		}
	}
	if p < KeyReject || p > KeySkip {
		return Invalid(pkg, field, "unknown policy %d", int(p))
	}
	return Invalid(pkg, field, "is %v, which %s does not support (want one of %v)", p, pkg, allowed)
}
