// Package archtest holds no code: its test checks the import rules of
// ARCHITECTURE.md (the core and the consumer engine import no broker
// library).
package archtest
