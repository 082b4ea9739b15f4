package consumer

import (
	"errors"
	"fmt"
)

// ErrInvalidConfig matches every *ConfigError: an adapter was given a
// Config it cannot run with.
var ErrInvalidConfig = errors.New("consumer: invalid config")

// ConfigError is the error an adapter's constructor returns for a Config
// it cannot run with; it matches ErrInvalidConfig.
type ConfigError struct {
	Package string // the adapter that refused it, e.g. "idemqkafka"
	Field   string // its Config's field, e.g. "Guard.Lease", "DeadLetter.Addr"
	Reason  string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s: invalid config: %s %s", e.Package, e.Field, e.Reason)
}

// Is makes errors.Is(err, ErrInvalidConfig) hold.
func (e *ConfigError) Is(target error) bool { return target == ErrInvalidConfig }

// Invalid returns a *ConfigError for pkg's field, its reason formatted.
func Invalid(pkg, field, format string, args ...any) error {
	return &ConfigError{Package: pkg, Field: field, Reason: fmt.Sprintf(format, args...)}
}
