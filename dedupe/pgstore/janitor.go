package pgstore

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/idemq/idemq/dedupe"
	"github.com/idemq/idemq/internal/ratelog"
)

// Defaults of a JanitorConfig.
const (
	// DefaultJanitorInterval is the time between two sweeps of RunJanitor.
	DefaultJanitorInterval = time.Minute
	// DefaultJanitorBatch is how many rows one DELETE of a sweep deletes at
	// most.
	DefaultJanitorBatch = 1000
)

// JanitorConfig configures RunJanitor. Its zero value is ready to use.
type JanitorConfig struct {
	// Interval is the time between two sweeps (0: DefaultJanitorInterval).
	Interval time.Duration
	// Batch is how many rows one DELETE deletes at most, each DELETE a
	// short transaction of its own (0: DefaultJanitorBatch).
	Batch int
	// Logger receives a warning when a sweep fails, and at Debug the count
	// of each sweep that deleted rows (nil: slog.Default()). A failure that
	// repeats is logged at most once per 10s, with the count of those held
	// back.
	Logger *slog.Logger
	// SweptFunc, if not nil, is called after each sweep, in RunJanitor's
	// goroutine, with the rows the sweep deleted and its error (nil, or
	// the database's). A sweep cut short by ctx is not reported.
	SweptFunc func(deleted int64, err error)
}

// RunJanitor deletes the Store's expired rows now and then every
// cfg.Interval, with DeleteExpired, until ctx ends; then it returns how
// many rows it deleted, and a nil error. It runs in the caller's
// goroutine: start it with go, stop it by cancelling ctx. A sweep that
// fails is logged and tried again at the next interval; the error is for a
// bad config only (negative Interval or Batch, a nil Store).
//
// Several processes may run it on one table: a row that one DELETE holds
// is skipped by the others.
func (s *Store[T]) RunJanitor(ctx context.Context, cfg JanitorConfig) (int64, error) {
	if err := cfg.setDefaults(); err != nil {
		return 0, err
	}
	if s == nil {
		return 0, fmt.Errorf("%w: pgstore: RunJanitor on a nil Store", dedupe.ErrInvalidOption)
	}
	ticker := time.NewTicker(cfg.Interval)
	defer ticker.Stop()
	var total int64
	for {
		n, err := s.DeleteExpired(ctx, cfg.Batch)
		total += n
		if ctx.Err() != nil {
			return total, nil
		}
		cfg.swept(s.cfg.table, n, err)
		select {
		case <-ctx.Done():
			return total, nil
		case <-ticker.C:
		}
	}
}

// setDefaults checks cfg and fills in its zero fields.
func (cfg *JanitorConfig) setDefaults() error {
	if cfg.Interval < 0 || cfg.Batch < 0 {
		return fmt.Errorf("%w: pgstore: JanitorConfig with Interval %v, Batch %d: want >= 0", dedupe.ErrInvalidOption, cfg.Interval, cfg.Batch)
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultJanitorInterval
	}
	if cfg.Batch == 0 {
		cfg.Batch = DefaultJanitorBatch
	}
	cfg.Logger = ratelog.Logger(cfg.Logger, 0)
	return nil
}

// swept logs a failed sweep and reports every sweep to SweptFunc.
func (cfg *JanitorConfig) swept(table string, n int64, err error) {
	switch {
	case err != nil:
		cfg.Logger.Warn("pgstore: deleting expired rows failed; trying again at the next interval",
			"table", table, "deleted", n, "interval", cfg.Interval, "err", err)
	case n > 0:
		cfg.Logger.Debug("pgstore: deleted expired rows", "table", table, "deleted", n)
	}
	if cfg.SweptFunc != nil {
		cfg.SweptFunc(n, err)
	}
}
