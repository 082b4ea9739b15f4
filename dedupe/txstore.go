package dedupe

import "context"

// TxStore is the seam of transactional stores (package pgstore): a store
// that keeps a key's record in the same database transaction as the work,
// so that the work's writes and the record commit together. It is what the
// consumer adapters take instead of a Store for exactly-once effects in
// that database. Like Store, it is for store writers; it may change before
// a tagged release. dedupetest.RunTx is the conformance suite every
// implementation must pass.
type TxStore interface {
	// RunTx begins a transaction, takes key in it (waiting while another
	// transaction holds it), and, when the key has no committed record,
	// calls fn with a ctx that carries the transaction (the store says how
	// fn gets it) and commits the value fn returns with fn's writes. A key
	// committed before returns its stored value with Duplicate set, without
	// calling fn. fingerprint, if not nil, is compared with the stored
	// one's (a *KeyReusedError when they differ).
	//
	// Errors: fn's own error (rolled back, nothing stored);
	// ErrCommitUnknown (COMMIT sent, no answer); ErrInProgress (another
	// transaction held the key too long); *KeyReusedError; others for a
	// database that failed before COMMIT (rolled back).
	RunTx(ctx context.Context, key string, fingerprint []byte, fn func(ctx context.Context) ([]byte, error)) (TxOutcome, error)
}

// TxOutcome is what RunTx found or did: the key's committed value, which
// fn returned (Duplicate false) or another run committed before
// (Duplicate true).
type TxOutcome struct {
	Value     []byte
	Duplicate bool
}

// IsNilTxStore is IsNilStore for a TxStore: nil, or a nil *pgstore.Store
// passed on without checking New's error.
func IsNilTxStore(s TxStore) bool { return isNilValue(s) }
