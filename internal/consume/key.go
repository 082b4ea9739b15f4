package consume

import (
	"fmt"
	"github.com/idemq/idemq/consumer"

	"github.com/idemq/idemq/dedupe"
)

// key returns m's idempotency key under the dedupe limits; under
// KeyProcess an invalid key means "no key": the message runs unguarded.
func (e *Engine[M, V]) key(m M) (string, error) {
	key, err := e.cfg.Key(m)
	switch {
	case err != nil:
	case key == "":
		err = fmt.Errorf("%w: empty key", dedupe.ErrInvalidKey)
	case len(key) > dedupe.MaxKeyLen:
		err = fmt.Errorf("%w: key of %d bytes is longer than dedupe.MaxKeyLen", dedupe.ErrInvalidKey, len(key))
	}
	if err != nil && e.cfg.InvalidKey == consumer.KeyProcess {
		e.debug("processing a message without deduplication", e.cfg.Log.Attrs(m), "reason", err)
		return "", nil
	}
	if err != nil {
		return "", err
	}
	return key, nil
}
