package idemqwatermill

import (
	"fmt"

	"github.com/ThreeDotsLabs/watermill"
	wmessage "github.com/ThreeDotsLabs/watermill/message"

	"github.com/idemq/idemq/dedupe"
)

// outcome is the value the guard commits for a key: the messages the handler
// produced (for DecoratePublisher, the published message's UUID). It is
// encoded with the core's JSONCodec, within Config.MaxOutputBytes
// (outcomeCodec).
type outcome struct {
	Messages []storedMessage `json:"messages"`
}

type storedMessage struct {
	UUID     string            `json:"uuid"`
	Metadata map[string]string `json:"metadata,omitempty"`
	Payload  []byte            `json:"payload,omitempty"`
}

// newOutcome records msgs. A message with an empty UUID gets a new one
// first, so that duplicates re-emit it with the same UUID as the original
// and consumers downstream can deduplicate by UUID.
func newOutcome(msgs []*wmessage.Message) outcome {
	o := outcome{Messages: make([]storedMessage, 0, len(msgs))}
	for _, m := range msgs {
		if m == nil {
			continue
		}
		if m.UUID == "" {
			m.UUID = watermill.NewUUID()
		}
		o.Messages = append(o.Messages, storedMessage{UUID: m.UUID, Metadata: m.Metadata, Payload: m.Payload})
	}
	return o
}

// messages returns fresh messages equal to the stored ones: same UUIDs,
// metadata and payloads, no ack state, no context.
func (o outcome) messages() []*wmessage.Message {
	msgs := make([]*wmessage.Message, 0, len(o.Messages))
	for _, s := range o.Messages {
		m := wmessage.NewMessage(s.UUID, s.Payload)
		for k, v := range s.Metadata {
			m.Metadata.Set(k, v)
		}
		msgs = append(msgs, m)
	}
	return msgs
}

// outcomeCodec is dedupe.JSONCodec with a bound on what it encodes. An
// outcome is encoded without reflection, to the bytes encoding/json would
// write (outcome_json.go), and the outcome of no messages is decoded
// without it.
type outcomeCodec struct {
	dedupe.JSONCodec
	max int
}

func (c outcomeCodec) Encode(v any) ([]byte, error) {
	var data []byte
	var err error
	if o, ok := v.(outcome); ok {
		data = appendOutcome(make([]byte, 0, o.encodedSize()), o)
	} else {
		data, err = c.JSONCodec.Encode(v)
	}
	if err == nil && len(data) > c.max {
		return nil, fmt.Errorf("%w: %d bytes, the limit is %d", ErrOutputsTooLarge, len(data), c.max)
	}
	return data, err
}

func (c outcomeCodec) Decode(data []byte, v any) error {
	if o, ok := v.(*outcome); ok && string(data) == noMessages {
		*o = outcome{Messages: []storedMessage{}}
		return nil
	}
	return c.JSONCodec.Decode(data, v)
}
