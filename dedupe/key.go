package dedupe

import "fmt"

// MaxKeyLen is the longest key Run accepts, in bytes.
const MaxKeyLen = 1024

// checkKey rejects keys Run does not accept. Keys are binary-safe: any bytes
// but none at all, up to MaxKeyLen.
func checkKey(key string) error {
	switch {
	case key == "":
		return fmt.Errorf("%w: empty key", ErrInvalidKey)
	case len(key) > MaxKeyLen:
		return fmt.Errorf("%w: key of %d bytes is longer than MaxKeyLen (%d)", ErrInvalidKey, len(key), MaxKeyLen)
	}
	return nil
}
