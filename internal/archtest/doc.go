// Package archtest holds no code: its tests check the import rules of
// ARCHITECTURE.md (the core and the consumer engine import no broker
// library and no store client library; a store package, dedupe/redisstore
// or dedupe/pgstore, imports dedupe, never the other way; only tests import
// the test-support packages; the Kafka adapters' scenario table,
// internal/kafkatest, imports neither adapter).
package archtest
