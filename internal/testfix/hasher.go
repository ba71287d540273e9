package testfix

import (
	"sync/atomic"

	"github.com/gatehouse-go/gatehouse/auth"
)

// Hasher is bcrypt (set its Cost; 4 keeps tests fast) counting what it
// does, so that tests can show when a password is, or is not, checked.
// With Block set, Compare waits on it first, to hold a hashing slot.
type Hasher struct {
	auth.Bcrypt
	Compares, Hashes atomic.Int64
	Block            chan struct{}
}

// Compare counts, waits on Block if set, then compares.
func (h *Hasher) Compare(hash, pw []byte) error {
	h.Compares.Add(1)
	if h.Block != nil {
		<-h.Block
	}
	return h.Bcrypt.Compare(hash, pw)
}

// Hash counts, then hashes.
func (h *Hasher) Hash(pw []byte) ([]byte, error) {
	h.Hashes.Add(1)
	return h.Bcrypt.Hash(pw)
}
