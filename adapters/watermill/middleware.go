package idemqwatermill

import (
	"context"
	"errors"
	"fmt"
	"github.com/idemq/idemq/consumer"

	wmessage "github.com/ThreeDotsLabs/watermill/message"

	"github.com/idemq/idemq/dedupe"
)

// Middleware is a message.HandlerMiddleware: add it to a router
// (router.AddMiddleware(d.Middleware)) or to one handler
// (handler.AddMiddleware(d.Middleware)), or wrap one HandlerFunc
// (d.Middleware(h)).
//
// The first delivery of a key runs h inside the guard and commits h's
// outputs before returning them; the router then publishes them and acks.
// A duplicate does not run h: it returns the stored outputs (same UUIDs,
// metadata and payloads) and a nil error, so the router re-publishes them
// and acks. h's error or panic commits nothing and reaches the router
// unchanged (nack, redelivery runs h again). A failure of the guard is a
// *GuardError: nack, never ack.
func (d *Deduplicator) Middleware(h wmessage.HandlerFunc) wmessage.HandlerFunc {
	return func(msg *wmessage.Message) ([]*wmessage.Message, error) {
		return d.handle(msg, h)
	}
}

// NoPublishHandler guards a handler without outputs, such as one added with
// router.AddConsumerHandler. It commits an outcome with no messages and
// never returns any (that router refuses them), duplicates included.
// Router-level Middleware works on consumer handlers too: they return no
// outputs, so it commits none.
func (d *Deduplicator) NoPublishHandler(h wmessage.NoPublishHandlerFunc) wmessage.NoPublishHandlerFunc {
	return func(msg *wmessage.Message) error {
		_, err := d.handle(msg, func(msg *wmessage.Message) ([]*wmessage.Message, error) {
			return nil, h(msg)
		})
		return err
	}
}

// handle runs h for msg under the guard of its key.
func (d *Deduplicator) handle(msg *wmessage.Message, h wmessage.HandlerFunc) ([]*wmessage.Message, error) {
	scope, explicit := d.cfg.Scope, d.cfg.Scope != ""
	if !explicit {
		scope = wmessage.HandlerNameFromCtx(msg.Context())
	}
	skey, key, err := d.key(msg, handlerKind, scope)
	if err != nil {
		return d.withoutKey(msg, err, h)
	}
	d.logScope(handlerKind, scope, explicit)
	orig := msg.Context()
	res, err := d.run(orig, msg, key, skey, func(ctx context.Context) ([]*wmessage.Message, error) {
		msg.SetContext(ctx) // h sees the guard's cancellation
		defer msg.SetContext(orig)
		return h(msg)
	})
	switch {
	case err != nil:
		d.logFailure(msg, key, err)
		return nil, err
	case !res.duplicate:
		d.m.processed.Add(1)
		return res.msgs, nil
	}
	if err := d.duplicate(msg, key, res.msgs); err != nil {
		return nil, err
	}
	if d.cfg.DropDuplicateOutputs {
		return nil, nil
	}
	return res.msgs, nil
}

// key returns msg's store key in scope and the KeyFunc's key, or an error
// wrapping ErrNoKey (an empty key counts as missing), dedupe.ErrInvalidKey
// (too long for the store with its scope) or the KeyFunc's own error.
func (d *Deduplicator) key(msg *wmessage.Message, kind, scope string) (skey, key string, err error) {
	key, err = d.cfg.KeyFunc(msg)
	switch {
	case err != nil:
		return "", key, err
	case key == "":
		return "", key, ErrNoKey
	}
	skey = storeKey(kind, scope, key)
	if len(skey) > dedupe.MaxKeyLen {
		return "", key, fmt.Errorf("%w: key of %d bytes, with its scope %d, is longer than dedupe.MaxKeyLen", dedupe.ErrInvalidKey, len(key), len(skey))
	}
	return skey, key, nil
}

// withoutKey applies Config.InvalidKey to a message without a valid key.
func (d *Deduplicator) withoutKey(msg *wmessage.Message, err error, h wmessage.HandlerFunc) ([]*wmessage.Message, error) {
	d.m.invalidKeys.Add(1)
	policy := d.cfg.InvalidKey
	d.cfg.Logger.Warn("idemqwatermill: message without a valid idempotency key",
		"uuid", msg.UUID, "policy", policy.String(), "err", err)
	switch policy {
	case consumer.KeyProcess:
		return h(msg)
	case consumer.KeySkip:
		return nil, nil
	}
	return nil, &KeyError{UUID: msg.UUID, Err: err}
}

// duplicate flags msg as a duplicate, reports it, and returns OnDuplicate's
// error; stored is what the store holds for the key.
func (d *Deduplicator) duplicate(msg *wmessage.Message, key string, stored []*wmessage.Message) error {
	d.m.duplicates.Add(1)
	if msg.Metadata == nil {
		msg.Metadata = wmessage.Metadata{}
	}
	msg.Metadata.Set(DuplicateMetadataKey, "true")
	d.cfg.Logger.Debug("idemqwatermill: duplicate message",
		"uuid", msg.UUID, "key", key, "stored", len(stored))
	if d.cfg.OnDuplicate != nil {
		return d.cfg.OnDuplicate(msg, stored)
	}
	return nil
}

func (d *Deduplicator) logFailure(msg *wmessage.Message, key string, err error) {
	var guard *GuardError
	var keyErr *KeyError
	switch {
	case errors.Is(err, context.Canceled): // shutting down, as the router sees it
		d.cfg.Logger.Debug("idemqwatermill: guard cancelled", "uuid", msg.UUID, "key", key, "err", err)
	case errors.As(err, &guard):
		d.m.guardErrors.Add(1)
		d.cfg.Logger.Warn("idemqwatermill: guard failed; the message will be nacked",
			"uuid", msg.UUID, "key", key, "err", err)
	case errors.As(err, &keyErr):
		d.m.invalidKeys.Add(1)
		d.cfg.Logger.Warn("idemqwatermill: key refused by the store", "uuid", msg.UUID, "err", err)
	case errors.As(err, new(*dedupe.KeyReusedError)):
		d.m.invalidKeys.Add(1)
		d.cfg.Logger.Warn("idemqwatermill: key reused for another payload; the message will be nacked", "uuid", msg.UUID, "key", key, "err", err)
	default:
		d.m.handlerErrors.Add(1)
	}
}
