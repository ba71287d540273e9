package password

import (
	"fmt"
	"net/http"
	"strings"

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

// HashReader is implemented by a [Hasher] that can tell at once, without
// the cost of a Compare, whether a hash is one its Compare reads. A
// Compare against a hash it cannot read (empty, cut short, of another
// scheme) fails at once, and so faster than one against a real hash: auth
// compares against a dummy hash instead, so that an account without a
// usable password takes as long to refuse as a wrong password does.
type HashReader interface {
	// CanRead reports whether Compare checks a password against hash at
	// the hasher's full cost (and so answers nil for the right one).
	CanRead(hash []byte) bool
}

// Bcrypt is the default Hasher, at Cost (10, bcrypt.DefaultCost, takes
// about 60 ms on one core of a small server).
type Bcrypt struct{ Cost int }

var (
	_ Hasher     = Bcrypt{}
	_ HashReader = Bcrypt{}
)

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
	// x/crypto's bcrypt compares only the first 72 bytes: a longer
	// password would pass for any that shares them. Refused, never
	// truncated (the caller spends the time of a comparison itself).
	if len(password) > MaxBytes {
		return ErrTooLong
	}
	return bcrypt.CompareHashAndPassword(hash, password)
}

// NeedsRehash implements Hasher: true for a bcrypt hash of another cost.
func (b Bcrypt) NeedsRehash(hash []byte) bool {
	cost, err := bcrypt.Cost(hash)
	return err == nil && cost != b.Cost
}

// CanRead implements HashReader: it reads hash as
// bcrypt.CompareHashAndPassword does (the header, the cost, the salt's
// alphabet), without hashing.
func (b Bcrypt) CanRead(hash []byte) bool {
	if _, err := bcrypt.Cost(hash); err != nil {
		return false // empty, short, another prefix or version, a bad cost
	}
	// Cost has read "$2$NN" or "$2x$NN" and one byte more, and checked
	// that the hash is long enough; the 22 characters of salt follow.
	start := 6
	if hash[2] != '$' {
		start = 7
	}
	for _, c := range hash[start : start+22] {
		if !strings.ContainsRune(bcryptAlphabet, rune(c)) {
			return false
		}
	}
	return true
}

// bcryptAlphabet is the base64 alphabet of bcrypt's salt and hash.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// MinCost is the lowest bcrypt cost Hash (and auth's Config.BcryptCost)
// accepts. Tests that need speed use a Hasher of their own, such as
// auth/authtest.NewHasher.
const MinCost = 10

// Hash returns the bcrypt hash of password at cost (MinCost to 31), for
// tools that import or seed users. It refuses passwords over MaxBytes with
// ErrTooLong. It runs at once, outside any Scheduler: a server hashing a
// password a request sent should call auth.Authenticator.HashPassword,
// which waits its turn for a hashing slot.
func Hash(password string, cost int) ([]byte, error) {
	if cost < MinCost || cost > bcrypt.MaxCost {
		return nil, fmt.Errorf("password: bcrypt cost %d is outside %d..%d", cost, MinCost, bcrypt.MaxCost)
	}
	return Bcrypt{Cost: cost}.Hash([]byte(password))
}
