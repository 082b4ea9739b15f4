// Package dedupe is idemq's idempotency guard.
package dedupe
