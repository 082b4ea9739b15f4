package idemqwatermill

import (
	"context"

	wmessage "github.com/ThreeDotsLabs/watermill/message"
)

// DecoratePublisher is a message.PublisherDecorator (pass d.DecoratePublisher
// to router.AddPublisherDecorators, or call it on any publisher): the
// returned publisher publishes each key at most once per topic across every
// instance sharing the store. The first publish of a key claims it,
// publishes, and commits only if the publish succeeded, so a failed publish
// can be retried; a repeat is dropped and reported (OnDuplicate, the
// DuplicateMetadataKey flag on the dropped message, a Debug log) and Publish
// returns nil for it. A repeat that arrives while the first publish is in
// flight waits for its outcome (or fails with ErrInProgress under NoWait).
//
// Messages of one Publish call are guarded and published one at a time, in
// order; the first failure stops the call and is returned (messages before
// it stay published and committed, so a retry of the whole call publishes
// only the rest). Messages without a valid key follow Config.InvalidKey.
func (d *Deduplicator) DecoratePublisher(pub wmessage.Publisher) (wmessage.Publisher, error) {
	if pub == nil {
		return nil, invalid("publisher", "is nil: DecoratePublisher needs one")
	}
	return &publisher{Publisher: pub, d: d}, nil
}

// publisher is the decorated publisher; Close is the wrapped publisher's.
type publisher struct {
	wmessage.Publisher
	d *Deduplicator
}

// Publish publishes each message whose key was not published before.
func (p *publisher) Publish(topic string, msgs ...*wmessage.Message) error {
	for _, m := range msgs {
		if err := p.publish(topic, m); err != nil {
			return err
		}
	}
	return nil
}

func (p *publisher) publish(topic string, m *wmessage.Message) error {
	d := p.d
	scope, explicit := d.cfg.Scope, d.cfg.Scope != ""
	if !explicit {
		scope = topic
	}
	skey, key, err := d.key(m, publishKind, scope)
	if err != nil {
		_, err := d.withoutKey(m, err, func(m *wmessage.Message) ([]*wmessage.Message, error) {
			return nil, p.Publisher.Publish(topic, m)
		})
		return err
	}
	d.logScope(publishKind, scope, explicit)
	orig := m.Context()
	res, err := d.run(orig, m, key, skey, func(ctx context.Context) ([]*wmessage.Message, error) {
		m.SetContext(ctx)
		defer m.SetContext(orig)
		if err := p.Publisher.Publish(topic, m); err != nil {
			return nil, err
		}
		// Only the UUID is committed: duplicates are dropped, not re-sent.
		return []*wmessage.Message{wmessage.NewMessage(m.UUID, nil)}, nil
	})
	switch {
	case err != nil:
		d.logFailure(m, key, err)
		return err
	case res.duplicate:
		return d.duplicate(m, key, res.msgs)
	}
	d.m.processed.Add(1)
	return nil
}
