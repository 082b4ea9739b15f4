package dedupe

import (
	"encoding/json"
	"fmt"
)

// A Codec turns committed values into bytes and back. Without WithCodec,
// Run and NewBatch use JSONCodec.
type Codec interface {
	Encode(v any) ([]byte, error)
	// Decode decodes data into v, a pointer to the run's value type.
	Decode(data []byte, v any) error
}

// JSONCodec encodes values with encoding/json.
type JSONCodec struct{}

func (JSONCodec) Encode(v any) ([]byte, error)    { return json.Marshal(v) }
func (JSONCodec) Decode(data []byte, v any) error { return json.Unmarshal(data, v) }

// RawCodec stores []byte and string values as they are, with no encoding.
// Any other value type is an error.
type RawCodec struct{}

func (RawCodec) Encode(v any) ([]byte, error) {
	switch v := v.(type) {
	case []byte:
		return v, nil
	case string:
		return []byte(v), nil
	}
	return nil, fmt.Errorf("dedupe: RawCodec encodes []byte or string, not %T", v)
}

func (RawCodec) Decode(data []byte, v any) error {
	switch v := v.(type) {
	case *[]byte:
		*v = append([]byte(nil), data...)
	case *string:
		*v = string(data)
	default:
		return fmt.Errorf("dedupe: RawCodec decodes into *[]byte or *string, not %T", v)
	}
	return nil
}
