package auth

import (
	"context"
	"errors"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// MaxPasswordBytes is bcrypt's limit. Longer passwords are refused with
// ErrPasswordTooLong rather than silently truncated.
const MaxPasswordBytes = 72

// Hasher hashes and checks passwords. The default is bcrypt at
// Config.BcryptCost; tests inject their own to count comparisons.
type Hasher interface {
	Hash(password []byte) ([]byte, error)
	// Compare returns nil when password matches hash.
	Compare(hash, password []byte) error
	// NeedsRehash reports whether hash was made with other settings than
	// the hasher's own.
	NeedsRehash(hash []byte) bool
}

// Bcrypt is the default Hasher.
type Bcrypt struct{ Cost int }

// Hash implements Hasher.
func (b Bcrypt) Hash(password []byte) ([]byte, error) {
	if len(password) > MaxPasswordBytes {
		return nil, ErrPasswordTooLong
	}
	return bcrypt.GenerateFromPassword(password, b.Cost)
}

// Compare implements Hasher.
func (b Bcrypt) Compare(hash, password []byte) error {
	return bcrypt.CompareHashAndPassword(hash, password)
}

// NeedsRehash implements Hasher.
func (b Bcrypt) NeedsRehash(hash []byte) bool {
	cost, err := bcrypt.Cost(hash)
	return err == nil && cost != b.Cost
}

// HashPassword returns the bcrypt hash of password at cost, for apps that
// create users. It refuses passwords over 72 bytes.
func HashPassword(password string, cost int) ([]byte, error) {
	return Bcrypt{Cost: cost}.Hash([]byte(password))
}

// gate bounds how many hashes run at once, so that a flood of logins keeps
// cores free for the rest of the app.
type gate struct {
	slots chan struct{}
	wait  time.Duration
}

func newGate(n int, wait time.Duration) *gate {
	return &gate{slots: make(chan struct{}, n), wait: wait}
}

// run calls f in a slot, waiting at most g.wait for one (ErrBusy after).
func (g *gate) run(ctx context.Context, f func()) error {
	select {
	case g.slots <- struct{}{}:
	default:
		t := time.NewTimer(g.wait)
		defer t.Stop()
		select {
		case g.slots <- struct{}{}:
		case <-t.C:
			return ErrBusy
		case <-ctx.Done():
			return errors.Join(ErrBusy, ctx.Err())
		}
	}
	defer func() { <-g.slots }()
	f()
	return nil
}
