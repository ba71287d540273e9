package password

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/gatehouse-go/gatehouse/problem"
)

// Limits bound the work a stored hash can ask of a check: a hash over them
// is not read (HashReader.CanRead is false, Compare refuses it at once).
// A row of the user table is data, and an attacker who can write one (an
// import, a sync from another system) must not be able to make every login
// to it take a gigabyte or a minute. Zero fields mean the defaults, which
// admit what OWASP, RFC 9106, Django and passlib recommend today with room
// to spare.
//
// The memory a server needs for hashing is MaxMemoryKiB × the hashing
// slots (auth's Config.MaxConcurrentHashes) at worst.
type Limits struct {
	// MaxMemoryKiB bounds the memory of one check: Argon2's m, scrypt's
	// 128·r·(N+p+2) bytes (its V, B and XY buffers; up to 64 KiB of the
	// last two are allowed over, so that N·r at the limit is read);
	// default 131072 (128 MiB: OWASP's scrypt N=2^17, r=8; Django's
	// Argon2 default is 100 MiB).
	MaxMemoryKiB uint32
	// MaxPasses bounds the passes over that memory: Argon2's t, scrypt's
	// p; default 10. scrypt's work, p·N·r blocks of 128 bytes, is also
	// bounded by MaxPasses × MaxMemoryKiB. (scrypt's r is bounded by
	// MaxScryptR.)
	MaxPasses uint32
	// MaxLanes bounds Argon2's p; default 4. golang.org/x/crypto/argon2
	// runs every lane on a goroutine of its own, so a hash of p lanes
	// takes p cores at once while a hashing slot (auth's
	// Config.MaxConcurrentHashes) is sized for one: 4 is RFC 9106's
	// second choice and the most a hash in the wild asks for. An
	// Argon2id hasher's own Threads raise it.
	MaxLanes uint32
	// MaxBcryptCost bounds bcrypt's cost; default 14 (16 times cost 10,
	// about a second). Every step doubles the time: cost 31 takes days.
	MaxBcryptCost int
	// MaxIterations bounds PBKDF2's iterations; default 2,000,000 (OWASP:
	// 600,000 for SHA-256; Django 6.0: 1,200,000).
	// Counted per block of key: a 64-byte PBKDF2-SHA256 key runs every
	// iteration twice.
	MaxIterations uint32
}

// The defaults of Limits.
const (
	DefaultMaxMemoryKiB  = 128 * 1024
	DefaultMaxPasses     = 10
	DefaultMaxLanes      = 4
	DefaultMaxBcryptCost = 14
	DefaultMaxIterations = 2_000_000
)

// MaxScryptR bounds scrypt's block size r in a stored hash. Hashes in use
// have r=8; a large r with a small N moves scrypt's memory into buffers
// of p·128·r bytes and its work into PBKDF2 over them.
const MaxScryptR = 32

// scryptBufferSlackKiB is how far scrypt's B and XY buffers (128·r·(p+2)
// bytes) may take a hash over MaxMemoryKiB: with r ≤ 32 and p ≤ 14 they
// fit, so N=2^17, r=8 is read within the default 128 MiB.
const scryptBufferSlackKiB = 64

func (l Limits) withDefaults() Limits {
	return Limits{
		MaxMemoryKiB:  orDefault(l.MaxMemoryKiB, DefaultMaxMemoryKiB),
		MaxPasses:     orDefault(l.MaxPasses, DefaultMaxPasses),
		MaxLanes:      orDefault(l.MaxLanes, DefaultMaxLanes),
		MaxBcryptCost: orDefault(l.MaxBcryptCost, DefaultMaxBcryptCost),
		MaxIterations: orDefault(l.MaxIterations, DefaultMaxIterations),
	}
}

// orDefault is v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Errors of stored hashes. Compare wraps one of the last three in a
// *HashError when it cannot check a password against a hash at all.
var (
	// ErrMismatch: the password does not match the hash.
	ErrMismatch = errors.New("password: hash and password do not match")
	// ErrUnknownHash: the hash is of no scheme the hasher reads.
	ErrUnknownHash = errors.New("password: hash of an unknown scheme")
	// ErrMalformedHash: the hash names a scheme it reads but does not
	// follow its format (cut short, bad base64, a parameter out of range).
	ErrMalformedHash = errors.New("password: malformed hash")
	// ErrOverLimits: the hash asks for more memory or work than Limits
	// allow.
	ErrOverLimits = errors.New("password: hash over the limits")
)

// A HashError says why a stored hash cannot be checked. It names the
// scheme the hash looked like and the reason, never the hash itself, so it
// is safe to log and to put in an audit record.
type HashError struct {
	Scheme string // "bcrypt", "argon2id", "scrypt", ...; "" when unknown
	Reason string
	Err    error // ErrUnknownHash, ErrMalformedHash or ErrOverLimits
}

func (e *HashError) Error() string {
	if e.Scheme == "" {
		return "password: hash: " + e.Reason
	}
	return "password: " + e.Scheme + " hash: " + e.Reason
}

func (e *HashError) Unwrap() error { return e.Err }

// maxHashLen bounds a stored hash; the longest a format here writes with
// the largest salt and hash they allow is under 300 bytes.
const maxHashLen = 512

// splitHash splits a "$"-separated hash into exactly n fields (the first
// is what comes before the first "$": empty for a PHC string), after
// checking that it is short and printable ASCII without spaces.
func splitHash(hash []byte, n int) ([]string, error) {
	if err := checkText(hash); err != nil {
		return nil, err
	}
	fields := strings.Split(string(hash), "$")
	if len(fields) != n {
		scheme := ""
		if len(fields) > 1 {
			scheme = fields[0] + fields[1]
		}
		return nil, &HashError{Scheme: scheme, Reason: "wrong number of $-separated fields", Err: ErrMalformedHash}
	}
	return fields, nil
}

// checkText checks that a hash is short and printable ASCII without
// spaces: base64 decoders skip line breaks, which would give one hash
// many spellings.
func checkText(hash []byte) error {
	if len(hash) == 0 {
		return &HashError{Reason: "empty", Err: ErrUnknownHash}
	}
	if len(hash) > maxHashLen {
		return &HashError{Reason: "longer than 512 bytes", Err: ErrMalformedHash}
	}
	for _, c := range hash {
		if c <= ' ' || c > '~' {
			return &HashError{Reason: "not printable ASCII", Err: ErrMalformedHash}
		}
	}
	return nil
}

// LengthLimit is implemented by a Hasher that says the longest password
// it takes, in bytes. Argon2id does (MaxPassphraseBytes); a Hasher that
// does not is taken to be bcrypt's (MaxBytes).
type LengthLimit interface {
	MaxLen() int
}

// MaxLen returns the longest password h takes, in bytes: h.MaxLen() when
// h is a LengthLimit, else MaxBytes (bcrypt's 72).
func MaxLen(h Hasher) int {
	if l, ok := h.(LengthLimit); ok {
		return l.MaxLen()
	}
	return MaxBytes
}

// CheckLen returns an error matching ErrTooLong (400 password_too_long,
// with h's limit in its message) when password is longer than MaxLen(h),
// else nil. Call it before any lookup or hash.
func CheckLen(h Hasher, password string) error {
	if n := MaxLen(h); len(password) > n {
		return tooLong(n)
	}
	return nil
}

// tooLong is ErrTooLong for a limit of n bytes.
func tooLong(n int) error {
	if n == MaxBytes {
		return ErrTooLong
	}
	return problem.NewWrapping(fmt.Sprintf("password: longer than %d bytes", n), problem.Error{
		Status: http.StatusBadRequest, Code: "password_too_long",
		Message: fmt.Sprintf("the password is longer than %d bytes", n)}, ErrTooLong)
}
