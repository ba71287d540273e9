package password

import (
	"net/http"

	"golang.org/x/crypto/bcrypt"

	"github.com/gatehouse-go/gatehouse/problem"
)

// MaxBytes is bcrypt's limit. Longer passwords are refused with
// [ErrTooLong] rather than silently truncated.
const MaxBytes = 72

// ErrTooLong: a password longer than [MaxBytes] (400 password_too_long).
var ErrTooLong = problem.New("password: longer than 72 bytes", problem.Error{
	Status: http.StatusBadRequest, Code: "password_too_long",
	Message: "the password is longer than 72 bytes"})

// Hasher hashes and checks passwords. Implementations are safe for
// concurrent use.
type Hasher interface {
	// Hash returns a new hash of password.
	Hash(password []byte) ([]byte, error)
	// Compare returns nil when password matches hash.
	Compare(hash, password []byte) error
	// NeedsRehash reports whether hash was made with other settings than
	// the hasher's own, so a right password should be hashed again.
	NeedsRehash(hash []byte) bool
}

// Bcrypt is the default Hasher, at Cost (10, bcrypt.DefaultCost, takes
// about 60 ms on one core of a small server).
type Bcrypt struct{ Cost int }

var _ Hasher = Bcrypt{}

// Hash implements Hasher. It refuses passwords over MaxBytes with
// ErrTooLong.
func (b Bcrypt) Hash(password []byte) ([]byte, error) {
	if len(password) > MaxBytes {
		return nil, ErrTooLong
	}
	return bcrypt.GenerateFromPassword(password, b.Cost)
}

// Compare implements Hasher.
func (b Bcrypt) Compare(hash, password []byte) error {
	return bcrypt.CompareHashAndPassword(hash, password)
}

// NeedsRehash implements Hasher: true for a bcrypt hash of another cost.
func (b Bcrypt) NeedsRehash(hash []byte) bool {
	cost, err := bcrypt.Cost(hash)
	return err == nil && cost != b.Cost
}

// Hash returns the bcrypt hash of password at cost, for apps that create
// users. It refuses passwords over MaxBytes with ErrTooLong.
func Hash(password string, cost int) ([]byte, error) {
	return Bcrypt{Cost: cost}.Hash([]byte(password))
}
