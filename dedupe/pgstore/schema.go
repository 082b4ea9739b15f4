package pgstore

import (
	"fmt"
	"regexp"
)

// DefaultTable is the table of a Store without WithTable.
const DefaultTable = "idemq_keys"

// Schema returns the DDL that Migrate applies for table: the table, keyed by
// (scope, key), and an index for expiry. It is idempotent. The key is bytea:
// a key is any bytes (dedupe.CheckKey), a NUL byte and invalid UTF-8
// included.
func Schema(table string) string {
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %[1]s (
	scope       text        NOT NULL,
	key         bytea       NOT NULL,
	value       bytea,
	fingerprint text,
	created_at  timestamptz NOT NULL DEFAULT now(),
	expires_at  timestamptz NOT NULL,
	PRIMARY KEY (scope, key)
);
CREATE INDEX IF NOT EXISTS %[2]s ON %[1]s (expires_at);
`, table, indexName(table))
}

func indexName(table string) string {
	return regexp.MustCompile(`\W`).ReplaceAllString(table, "_") + "_expires_at"
}

// tableName matches what WithTable accepts: an identifier, optionally
// schema-qualified, in lower case.
var tableName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}(\.[a-z_][a-z0-9_]{0,62})?$`)

// The statements of a Run. $1 scope, $2 key.
const (
	// claimSQL inserts the key's row, or takes over an expired one; an
	// existing live row comes back unchanged (a no-op update locks it and
	// returns it in the same round trip). owned: the row has no value, so
	// this transaction owns it. $3 fingerprint digest, $4 TTL in ms.
	claimSQL = `INSERT INTO %[1]s AS r (scope, key, fingerprint, expires_at)
VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')
ON CONFLICT (scope, key) DO UPDATE SET
	value       = CASE WHEN r.expires_at <= now() THEN NULL ELSE r.value END,
	fingerprint = CASE WHEN r.expires_at <= now() THEN EXCLUDED.fingerprint ELSE r.fingerprint END,
	created_at  = CASE WHEN r.expires_at <= now() THEN now() ELSE r.created_at END,
	expires_at  = CASE WHEN r.expires_at <= now() THEN EXCLUDED.expires_at ELSE r.expires_at END
RETURNING r.value IS NULL AS owned, r.value, r.fingerprint`
	// endSQL stores the function's value in the row this transaction owns. $3 value.
	endSQL = `UPDATE %[1]s SET value = $3 WHERE scope = $1 AND key = $2`
	// deleteExpiredSQL deletes up to $1 expired rows that no transaction
	// holds.
	deleteExpiredSQL = `DELETE FROM %[1]s WHERE ctid = ANY (ARRAY(
	SELECT ctid FROM %[1]s WHERE expires_at <= now() LIMIT $1 FOR UPDATE SKIP LOCKED))`
	// The savepoint RunIn keeps its part of the caller's transaction in.
	savepointSQL  = `SAVEPOINT idemq_run`
	releaseSQL    = `RELEASE SAVEPOINT idemq_run`
	rollbackToSQL = `ROLLBACK TO SAVEPOINT idemq_run`
	// timeoutsSQL bounds a duplicate's wait and a stalled owner's session,
	// for the rest of the transaction; a statement without arguments, to go
	// in one round trip with the claim. %[1]s, %[2]s: the timeouts ("30000ms").
	timeoutsSQL = `SELECT set_config('lock_timeout', '%[1]s', true), set_config('idle_in_transaction_session_timeout', '%[2]s', true)`
)
