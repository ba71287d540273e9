package password

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/scrypt"
)

// A ReadingHasher is a Hasher that tells its own hashes from others, as
// Bcrypt and Argon2id do.
type ReadingHasher interface {
	Hasher
	HashReader
}

// Importing is the Hasher for an app whose users come from another
// system: it hashes new passwords with Primary, and checks hashes of the
// schemes other systems write as well as Primary's own, saying that any
// hash not Primary's (or not at Primary's settings) needs a rehash, so
// that auth replaces it with a Primary hash at the user's next login.
//
// The hashes it reads (see docs/migrating.md for where each comes from):
//
//   - bcrypt: $2a$, $2b$, $2y$ (and the original $2$), costs 4 to
//     Limits.MaxBcryptCost; not $2x$, crypt_blowfish's record of its
//     sign-extension bug. A password over 72 bytes never matches a bcrypt
//     hash: it is refused (ErrTooLong), not truncated;
//   - Argon2id and Argon2i, version 19, in the PHC string format
//     ($argon2id$v=19$m=..,t=..,p=..$salt$hash), and in Django's
//     envelope (argon2$argon2id$v=19$...);
//   - scrypt as passlib and go-crypt write it
//     ($scrypt$ln=<log2 N>,r=..,p=..$salt$hash, unpadded base64);
//   - PBKDF2-HMAC-SHA256 and -SHA512 as passlib and go-crypt write them
//     ($pbkdf2-sha256$<iterations>$salt$hash, in passlib's base64 with "."
//     for "+"), and in the PHC form of RustCrypto's password-hash
//     ($pbkdf2-sha256$i=<iterations>,l=<length>$salt$hash);
//   - Django's pbkdf2_sha256$<iterations>$<salt>$<hash> and its
//     pbkdf2_sha1.
//
// Any other hash, a malformed one, or one that asks for more than Limits
// allow, is not read: CanRead is false (auth then compares the password
// against its dummy hash, so the login takes the time of a wrong password
// and fails like one), Compare refuses it at once, and Identify says why,
// for the app to log or report. No stored hash can make Compare panic or
// accept a password that does not match it.
//
// The zero Importing hashes with Argon2id{} within the default Limits.
// It is safe for concurrent use.
type Importing struct {
	// Primary makes new hashes; default Argon2id{}. Its own settings raise
	// Limits where they are over them.
	Primary ReadingHasher
	// Limits bound what a stored hash may ask of a check.
	Limits Limits
}

var (
	_ ReadingHasher = Importing{}
	_ LengthLimit   = Importing{}
)

func (h Importing) primary() ReadingHasher {
	if h.Primary == nil {
		return Argon2id{}
	}
	return h.Primary
}

// limits are h.Limits with defaults, raised to fit Primary's settings.
func (h Importing) limits() Limits {
	l := h.Limits.withDefaults()
	switch p := h.primary().(type) {
	case Argon2id:
		own := p.params()
		l.MaxMemoryKiB = max(l.MaxMemoryKiB, own.memory)
		l.MaxPasses = max(l.MaxPasses, own.time)
		l.MaxLanes = max(l.MaxLanes, own.threads)
	case Bcrypt:
		l.MaxBcryptCost = max(l.MaxBcryptCost, p.Cost)
	}
	return l
}

// Hash implements Hasher with Primary.
func (h Importing) Hash(password []byte) ([]byte, error) { return h.primary().Hash(password) }

// MaxLen implements LengthLimit: Primary's limit (MaxLen(Primary)).
func (h Importing) MaxLen() int { return MaxLen(h.primary()) }

// Compare implements Hasher: nil when password matches hash, ErrMismatch
// (or bcrypt's ErrMismatchedHashAndPassword) when it does not, and a
// *HashError, without hashing, when hash is not one h reads.
func (h Importing) Compare(hash, password []byte) error {
	s, err := h.read(hash)
	if err != nil {
		return err
	}
	return s.check(password)
}

// CanRead implements HashReader: whether Compare checks a password against
// hash at its full cost. It hashes nothing.
func (h Importing) CanRead(hash []byte) bool {
	_, err := h.read(hash)
	return err == nil
}

// NeedsRehash implements Hasher: true for every hash Primary did not make
// at its current settings.
func (h Importing) NeedsRehash(hash []byte) bool {
	p := h.primary()
	return !p.CanRead(hash) || p.NeedsRehash(hash)
}

// Identify names the scheme of hash ("bcrypt", "argon2id", "argon2i",
// "scrypt", "pbkdf2-sha256", "pbkdf2-sha512", and Django's
// "pbkdf2_sha256", "pbkdf2_sha1") and reports, as a *HashError, why
// Compare would not check a password against it; nil when it would. Run
// it over an imported table before the switch (see docs/migrating.md) to
// find the rows no one will be able to log in to.
func (h Importing) Identify(hash []byte) (scheme string, err error) {
	s, err := h.read(hash)
	if err != nil {
		var he *HashError
		if errors.As(err, &he) {
			return he.Scheme, err
		}
		return "", err
	}
	return s.scheme(), nil
}

// stored is a hash read and checked, ready to check a password.
type stored interface {
	scheme() string
	check(password []byte) error
}

// read finds hash's scheme by its prefix and reads it with that scheme's
// decoder.
func (h Importing) read(hash []byte) (stored, error) {
	lim := h.limits()
	switch {
	case bytes.HasPrefix(hash, []byte("$2")):
		return readBcrypt(hash, lim)
	case bytes.HasPrefix(hash, []byte("$argon2")):
		return readArgon2(hash, lim)
	case bytes.HasPrefix(hash, []byte("argon2$argon2")): // Django
		return readArgon2(hash[len("argon2"):], lim)
	case bytes.HasPrefix(hash, []byte("$scrypt$")):
		return readScrypt(hash, lim)
	case bytes.HasPrefix(hash, []byte("$pbkdf2-")):
		return readPBKDF2(hash, lim)
	case bytes.HasPrefix(hash, []byte("pbkdf2_")): // Django
		return readDjangoPBKDF2(hash, lim)
	}
	if err := checkText(hash); err != nil {
		return nil, err // empty, too long, not printable
	}
	return nil, &HashError{Reason: "unknown scheme " + schemeHint(hash), Err: ErrUnknownHash}
}

// schemeHint quotes the identifier a hash begins with ("$1$" → "1",
// "sha1$..." → "sha1"), when it looks like one, for an audit record: never
// more than 20 letters, digits and -_.
func schemeHint(hash []byte) string {
	s := strings.TrimPrefix(string(hash), "$")
	i := strings.IndexByte(s, '$')
	if i <= 0 || i > 20 || strings.Trim(s[:i], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != "" {
		return "(no identifier)"
	}
	return fmt.Sprintf("%q", s[:i])
}

func (p argon2Params) scheme() string { return p.variant }

// bcryptHash is a bcrypt hash, checked by x/crypto/bcrypt.
type bcryptHash []byte

func (bcryptHash) scheme() string { return "bcrypt" }

func (b bcryptHash) check(password []byte) error {
	if len(password) > MaxBytes {
		return ErrTooLong // bcrypt reads 72 bytes: never a silent truncation
	}
	return bcrypt.CompareHashAndPassword(b, password)
}

// readBcrypt reads "$2a$", "$2b$", "$2y$" and "$2$" hashes: the cost, 22
// characters of salt and 31 of hash in bcrypt's alphabet. $2b$ is
// OpenBSD's fix (2014) of a wrap-around for passwords of 256 bytes or more,
// $2y$ crypt_blowfish's name for its correct code (2011): for passwords of
// up to 72 bytes all three compute the same. $2x$ marks hashes made by
// crypt_blowfish's sign-extension bug, which x/crypto does not reproduce.
func readBcrypt(hash []byte, lim Limits) (stored, error) {
	bad := refuser("bcrypt")
	n := 60
	switch {
	case len(hash) >= 3 && hash[2] == '$':
		n = 59 // "$2$"
	case len(hash) >= 4 && hash[3] == '$' && bytes.IndexByte([]byte("aby"), hash[2]) >= 0:
	case len(hash) >= 4 && hash[2] == 'x' && hash[3] == '$':
		return bad("$2x$ (crypt_blowfish's sign-extension bug) is not supported", ErrUnknownHash)
	default:
		return bad("not $2a$, $2b$ or $2y$", ErrUnknownHash)
	}
	if err := checkText(hash); err != nil {
		return nil, err
	}
	if len(hash) != n || !(Bcrypt{}).CanRead(hash) {
		return bad("not a 60-character hash with a cost of 4 to 31 and a salt in bcrypt's alphabet", ErrMalformedHash)
	}
	for _, c := range hash[n-31:] {
		if strings.IndexByte(bcryptAlphabet, c) < 0 {
			return bad("hash outside bcrypt's alphabet", ErrMalformedHash)
		}
	}
	if cost, _ := bcrypt.Cost(hash); cost > lim.MaxBcryptCost {
		return bad(fmt.Sprintf("cost %d is over the limit %d", cost, lim.MaxBcryptCost), ErrOverLimits)
	}
	return bcryptHash(hash), nil
}

// refuser returns a function that refuses a hash of scheme.
func refuser(scheme string) func(reason string, kind error) (stored, error) {
	return func(reason string, kind error) (stored, error) {
		return nil, &HashError{Scheme: scheme, Reason: reason, Err: kind}
	}
}

// derived is a hash of a key derivation function: the password matches
// when derive gives key again.
type derived struct {
	name   string
	derive func(password []byte, keyLen int) ([]byte, error)
	key    []byte
}

func (d derived) scheme() string { return d.name }

func (d derived) check(password []byte) error {
	k, err := d.derive(password, len(d.key))
	if err != nil {
		return fmt.Errorf("password: %s: %w", d.name, err)
	}
	if subtle.ConstantTimeCompare(k, d.key) != 1 {
		return ErrMismatch
	}
	return nil
}

// readScrypt reads passlib's "$scrypt$ln=L,r=R,p=P$salt$hash" (go-crypt
// writes the same), N being 2^L, salt and hash unpadded standard base64.
// r is at most MaxScryptR. The memory scrypt.Key allocates, 128·r·(N+p+2)
// bytes (V, B and XY), is bounded by Limits.MaxMemoryKiB plus
// scryptBufferSlack; p by Limits.MaxPasses; and the work, p·N·r blocks of
// 128 bytes, by MaxPasses × MaxMemoryKiB, as for Argon2's t·m.
func readScrypt(hash []byte, lim Limits) (stored, error) {
	fields, err := splitHash(hash, 5)
	if err != nil {
		return nil, err
	}
	bad := refuser("scrypt")
	var ln, r, p uint64
	if !scanParams(fields[2], []string{"ln", "r", "p"}, []*uint64{&ln, &r, &p}) {
		return bad("parameters are not ln=<log2 N>,r=<block size>,p=<parallelism>", ErrMalformedHash)
	}
	if ln < 1 || ln > 32 || r < 1 || p < 1 || r >= 1<<30 || p >= 1<<30 || r*p >= 1<<30 {
		return bad("parameters out of scrypt's range", ErrMalformedHash)
	}
	if r > MaxScryptR {
		return bad(fmt.Sprintf("r=%d is over the limit %d", r, MaxScryptR), ErrOverLimits)
	}
	// With ln ≤ 32, r ≤ 32 and p < 2^30 none of these overflow 64 bits.
	n := uint64(1) << ln
	memKiB := (128*r*(n+p+2) + 1023) / 1024
	workKiB := 128 * r * n * p / 1024
	if memKiB > uint64(lim.MaxMemoryKiB)+scryptBufferSlackKiB || p > uint64(lim.MaxPasses) ||
		workKiB > uint64(lim.MaxMemoryKiB)*uint64(lim.MaxPasses) {
		return bad(fmt.Sprintf("ln=%d,r=%d,p=%d is over the limits (128·r·(N+p+2) ≤ %d KiB, p ≤ %d, 128·p·N·r ≤ %d KiB)",
			ln, r, p, uint64(lim.MaxMemoryKiB)+scryptBufferSlackKiB, lim.MaxPasses, uint64(lim.MaxMemoryKiB)*uint64(lim.MaxPasses)), ErrOverLimits)
	}
	salt, err := decodeB64(fields[3], base64.RawStdEncoding, 1, 64)
	if err != nil {
		return bad("salt: "+err.Error(), ErrMalformedHash)
	}
	key, err := decodeB64(fields[4], base64.RawStdEncoding, 16, 64)
	if err != nil {
		return bad("hash: "+err.Error(), ErrMalformedHash)
	}
	nn, rr, pp := int(n), int(r), int(p)
	return derived{name: "scrypt", key: key, derive: func(pw []byte, keyLen int) ([]byte, error) {
		return scrypt.Key(pw, salt, nn, rr, pp, keyLen)
	}}, nil
}

// pbkdf2Hash is the hash function of a PBKDF2 scheme and its size; nil
// for a scheme it does not know.
func pbkdf2Hash(scheme string) (func() hash.Hash, int) {
	switch scheme {
	case "pbkdf2-sha256", "pbkdf2_sha256":
		return sha256.New, sha256.Size
	case "pbkdf2-sha512":
		return sha512.New, sha512.Size
	case "pbkdf2_sha1":
		return sha1.New, sha1.Size
	}
	return nil, 0
}

// pbkdf2Check checks a PBKDF2 hash's work against lim, and returns the
// hash ready to check a password. The work is the iteration count (read
// by ok) times the blocks of the hash function's size the key takes:
// PBKDF2 runs every iteration once per block, so a 64-byte key of
// PBKDF2-SHA256 costs twice the iterations.
func pbkdf2Check(scheme string, iter uint64, ok bool, salt, key []byte, lim Limits) (stored, error) {
	if !ok || iter < 1 {
		return nil, &HashError{Scheme: scheme, Reason: "iterations are not a number of at least 1", Err: ErrMalformedHash}
	}
	h, size := pbkdf2Hash(scheme)
	blocks := uint64((len(key) + size - 1) / size)
	if iter > uint64(lim.MaxIterations) || iter*blocks > uint64(lim.MaxIterations) {
		return nil, &HashError{Scheme: scheme, Reason: fmt.Sprintf("%d iterations × %d blocks of key are over the limit %d", iter, blocks, lim.MaxIterations), Err: ErrOverLimits}
	}
	return derived{name: scheme, key: key, derive: func(pw []byte, keyLen int) ([]byte, error) {
		return pbkdf2.Key(h, string(pw), salt, int(iter), keyLen)
	}}, nil
}

// readPBKDF2 reads PBKDF2-HMAC-SHA256 and -SHA512 hashes in passlib's form,
// "$pbkdf2-sha256$<iterations>$salt$hash" with passlib's base64 ("." for
// "+", unpadded; go-crypt writes the same), or RustCrypto's PHC form,
// "$pbkdf2-sha256$i=<iterations>,l=<key length>$salt$hash" in unpadded
// standard base64.
func readPBKDF2(hash []byte, lim Limits) (stored, error) {
	fields, err := splitHash(hash, 5)
	if err != nil {
		return nil, err
	}
	name := fields[1]
	bad := refuser(name)
	if name != "pbkdf2-sha256" && name != "pbkdf2-sha512" {
		return bad("not pbkdf2-sha256 or pbkdf2-sha512", ErrUnknownHash)
	}
	enc := base64.RawStdEncoding
	iter, ok := parseNumber(fields[2])
	var keyLen uint64
	if strings.HasPrefix(fields[2], "i=") {
		ok = scanParams(fields[2], []string{"i", "l"}, []*uint64{&iter, &keyLen})
	} else if strings.ContainsRune(fields[3]+fields[4], '+') {
		return bad("'+' in passlib's base64, which has '.' for it", ErrMalformedHash)
	} else {
		enc = base64.NewEncoding("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789./").WithPadding(base64.NoPadding)
	}
	salt, err := decodeB64(fields[3], enc, 1, 64)
	if err != nil {
		return bad("salt: "+err.Error(), ErrMalformedHash)
	}
	key, err := decodeB64(fields[4], enc, 16, 64)
	if err != nil || (keyLen != 0 && keyLen != uint64(len(key))) {
		return bad("hash: not 16 to 64 bytes of base64 of the length given", ErrMalformedHash)
	}
	return pbkdf2Check(name, iter, ok, salt, key, lim)
}

// readDjangoPBKDF2 reads Django's "pbkdf2_sha256$<iterations>$<salt>$<hash>"
// and "pbkdf2_sha1$...": the salt is used as the text it is, the hash is
// padded standard base64 of the hash function's size.
func readDjangoPBKDF2(hash []byte, lim Limits) (stored, error) {
	fields, err := splitHash(hash, 4)
	if err != nil {
		return nil, err
	}
	name, bad := fields[0], refuser(fields[0])
	if _, size := pbkdf2Hash(name); size == 0 || name == "pbkdf2-sha512" {
		return bad("not Django's pbkdf2_sha256 or pbkdf2_sha1", ErrUnknownHash)
	}
	salt := []byte(fields[2])
	if len(salt) < 1 || len(salt) > 128 {
		return bad("salt is not 1 to 128 characters", ErrMalformedHash)
	}
	_, size := pbkdf2Hash(name)
	key, err := decodeB64(fields[3], base64.StdEncoding, size, size)
	if err != nil {
		return bad("hash: "+err.Error(), ErrMalformedHash)
	}
	iter, ok := parseNumber(fields[1])
	return pbkdf2Check(name, iter, ok, salt, key, lim)
}
