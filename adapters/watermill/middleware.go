package watermill

import (
	"context"
	"errors"

	wmessage "github.com/ThreeDotsLabs/watermill/message"
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
	key, err := d.key(msg)
	if err != nil {
		return d.withoutKey(msg, err, h)
	}
	scope := d.cfg.Scope
	if scope == "" {
		scope = wmessage.HandlerNameFromCtx(msg.Context())
	}
	orig := msg.Context()
	res, err := d.run(orig, msg.UUID, key, storeKey(handlerKind, scope, key), func(ctx context.Context) ([]*wmessage.Message, error) {
		msg.SetContext(ctx) // h sees the guard's cancellation
		defer msg.SetContext(orig)
		return h(msg)
	})
	switch {
	case err != nil:
		d.logFailure(msg, key, err)
		return nil, err
	case res.duplicate && d.cfg.DropDuplicateOutputs:
		d.duplicate(msg, key, 0)
		return nil, nil
	case res.duplicate:
		d.duplicate(msg, key, len(res.msgs))
	}
	return res.msgs, nil
}

// key returns msg's key, or an error wrapping ErrMissingKey (an empty key
// counts as missing) or the KeyFunc's own error.
func (d *Deduplicator) key(msg *wmessage.Message) (string, error) {
	key, err := d.cfg.KeyFunc(msg)
	if err == nil && key == "" {
		err = ErrMissingKey
	}
	return key, err
}

// withoutKey applies Config.MissingKey to a message whose key is missing; any
// other key error is a *KeyError.
func (d *Deduplicator) withoutKey(msg *wmessage.Message, err error, h wmessage.HandlerFunc) ([]*wmessage.Message, error) {
	policy := d.cfg.MissingKey
	if !errors.Is(err, ErrMissingKey) {
		policy = MissingKeyReject
	}
	d.cfg.Logger.Warn("watermill: message without a usable idempotency key",
		"uuid", msg.UUID, "policy", policy.String(), "err", err)
	switch policy {
	case MissingKeyProcess:
		return h(msg)
	case MissingKeySkip:
		return nil, nil
	}
	return nil, &KeyError{UUID: msg.UUID, Err: err}
}

// duplicate flags msg as a duplicate and reports it; reemitted is the
// number of stored outputs handed back to the router.
func (d *Deduplicator) duplicate(msg *wmessage.Message, key string, reemitted int) {
	if msg.Metadata == nil {
		msg.Metadata = wmessage.Metadata{}
	}
	msg.Metadata.Set(DuplicateMetadataKey, "true")
	d.cfg.Logger.Debug("watermill: duplicate message",
		"uuid", msg.UUID, "key", key, "reemitted", reemitted)
	if d.cfg.OnDuplicate != nil {
		d.cfg.OnDuplicate(msg, key)
	}
}

func (d *Deduplicator) logFailure(msg *wmessage.Message, key string, err error) {
	var guard *GuardError
	var keyErr *KeyError
	switch {
	case errors.Is(err, context.Canceled): // shutting down, as the router sees it
		d.cfg.Logger.Debug("watermill: guard cancelled", "uuid", msg.UUID, "key", key, "err", err)
	case errors.As(err, &guard):
		d.cfg.Logger.Warn("watermill: guard failed; the message will be nacked",
			"uuid", msg.UUID, "key", key, "err", err)
	case errors.As(err, &keyErr):
		d.cfg.Logger.Warn("watermill: key refused by the store", "uuid", msg.UUID, "err", err)
	}
}
