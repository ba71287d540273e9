package mfa

import (
	"bytes"
	"context"
	"sync"
)

// Factors is where the app keeps each subject's second factors: one
// opaque sealed blob per subject (a TOTP secret, recovery code hashes),
// in its own database beside its users, since they live as long as the
// account does. gatehouse seals the blob before it hands it over and
// opens it after; the app stores bytes.
//
// Both methods are safe for concurrent use; errors are for failures only
// (a miss is not one). Store blobs as they are given; a byte changed
// makes the blob refuse to open.
type Factors interface {
	// Get returns the blob stored for subject, or nil and a nil error when
	// there is none.
	Get(ctx context.Context, subject string) ([]byte, error)

	// CompareAndSwap stores next for subject if the stored blob is still
	// old, at once, and reports whether it did. old nil means "only if
	// there is none"; next nil deletes the blob. Each sealed blob is
	// unique (a fresh nonce), so the blob is its own version: in SQL,
	//
	//	UPDATE mfa_factors SET blob = $next WHERE subject = $1 AND blob = $old
	//	INSERT INTO mfa_factors (subject, blob) VALUES ($1, $next) ON CONFLICT DO NOTHING
	//	DELETE FROM mfa_factors WHERE subject = $1 AND blob = $old
	//
	// and report whether a row was affected. Of concurrent swaps from one
	// old blob exactly one reports true: that is what makes a recovery
	// code usable once, so a store that cannot compare and swap
	// atomically must not implement it.
	CompareAndSwap(ctx context.Context, subject string, old, next []byte) (bool, error)
}

// MemoryFactors is an in-memory [Factors] for tests and examples. The
// zero value is ready; it is safe for concurrent use.
type MemoryFactors struct {
	mu sync.Mutex
	m  map[string][]byte
}

var _ Factors = (*MemoryFactors)(nil)

// Get implements [Factors].
func (f *MemoryFactors) Get(_ context.Context, subject string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return bytes.Clone(f.m[subject]), nil
}

// CompareAndSwap implements [Factors].
func (f *MemoryFactors) CompareAndSwap(_ context.Context, subject string, old, next []byte) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cur, ok := f.m[subject]
	if ok != (old != nil) || !bytes.Equal(cur, old) {
		return false, nil
	}
	if next == nil {
		delete(f.m, subject)
		return true, nil
	}
	if f.m == nil {
		f.m = map[string][]byte{}
	}
	f.m[subject] = bytes.Clone(next)
	return true, nil
}

// Len returns how many subjects have factors stored.
func (f *MemoryFactors) Len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}
