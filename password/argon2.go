package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"

	"golang.org/x/crypto/argon2"
)

// OWASP's first recommended Argon2id settings (Password Storage Cheat
// Sheet): 19 MiB, two passes, one lane. They are Argon2id's defaults.
const (
	Argon2Memory  = 19 * 1024 // KiB
	Argon2Time    = 2
	Argon2Threads = 1
)

// argon2MinWork is the least Memory × Time Argon2id.Hash accepts: that of
// OWASP's cheapest row (m=7168 KiB, t=5); its other rows all cost more.
const argon2MinWork = 7168 * 5

// MaxPassphraseBytes is the longest password Argon2id takes: 256
// characters of any script (UTF-8 needs at most 4 bytes a character).
// Argon2 has no limit of its own; this one keeps a request from having a
// megabyte hashed.
const MaxPassphraseBytes = 1024

// Argon2id hashes passwords with Argon2id (RFC 9106) from
// golang.org/x/crypto/argon2, in the PHC string format the reference
// implementation writes:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// with a 16-byte random salt and a 32-byte hash, each in unpadded standard
// base64. Zero fields mean OWASP's settings (Argon2Memory, Argon2Time,
// Argon2Threads). It takes passwords up to [MaxPassphraseBytes].
//
// Each check takes Memory KiB for its duration, so a server needs about
// Memory × the hashing slots (auth's Config.MaxConcurrentHashes) for
// hashing: 19 MiB × 1 slot on a 2-core machine by default. The memory and
// work a stored hash asks for are bounded by [Limits] (with Argon2id's own
// settings raised to fit): a hash over them is not read (CanRead is false,
// Compare refuses it at once), so a hostile row in the user table cannot
// take the server's memory.
//
// An Argon2id is safe for concurrent use.
type Argon2id struct {
	Memory  uint32 // KiB; default Argon2Memory (19456)
	Time    uint32 // passes over the memory; default Argon2Time (2)
	Threads uint8  // lanes; default Argon2Threads (1)
}

var (
	_ Hasher      = Argon2id{}
	_ HashReader  = Argon2id{}
	_ LengthLimit = Argon2id{}
)

// params returns the settings with defaults filled in.
func (a Argon2id) params() argon2Params {
	return argon2Params{
		memory:  orDefault(a.Memory, Argon2Memory),
		time:    orDefault(a.Time, Argon2Time),
		threads: uint32(orDefault(a.Threads, Argon2Threads)),
	}
}

// limits are the default Limits raised to fit a's own settings.
func (a Argon2id) limits() Limits {
	p := a.params()
	l := Limits{}.withDefaults()
	l.MaxMemoryKiB = max(l.MaxMemoryKiB, p.memory)
	l.MaxPasses = max(l.MaxPasses, p.time)
	l.MaxLanes = max(l.MaxLanes, p.threads)
	return l
}

// MaxLen implements LengthLimit: MaxPassphraseBytes.
func (a Argon2id) MaxLen() int { return MaxPassphraseBytes }

// Hash implements Hasher. It refuses passwords over MaxPassphraseBytes
// (an error matching ErrTooLong), and settings under OWASP's least
// (Memory × Time under 7168 KiB × 5 passes, or fewer than 8 KiB a lane).
func (a Argon2id) Hash(password []byte) ([]byte, error) {
	if len(password) > MaxPassphraseBytes {
		return nil, tooLong(MaxPassphraseBytes)
	}
	p := a.params()
	if uint64(p.memory)*uint64(p.time) < argon2MinWork || p.memory < 8*p.threads {
		return nil, fmt.Errorf("password: Argon2id m=%d KiB, t=%d, p=%d is under OWASP's least (m×t ≥ 7168×5, m ≥ 8p)", p.memory, p.time, p.threads)
	}
	p.variant, p.salt = "argon2id", make([]byte, 16)
	if _, err := rand.Read(p.salt); err != nil {
		return nil, err
	}
	p.key = p.derive(password, 32)
	return p.encode(), nil
}

// Compare implements Hasher: nil when password matches an Argon2id hash
// within a's limits, ErrMismatch when it does not; a *HashError when the
// hash is not one CanRead reads.
func (a Argon2id) Compare(hash, password []byte) error {
	p, err := readArgon2(hash, a.limits())
	if err == nil && p.variant != "argon2id" {
		err = &HashError{Scheme: p.variant, Reason: "not Argon2id", Err: ErrUnknownHash}
	}
	if err != nil {
		return err
	}
	if len(password) > MaxPassphraseBytes {
		return tooLong(MaxPassphraseBytes)
	}
	return p.check(password)
}

// CanRead implements HashReader: true for a well-formed Argon2id hash
// (version 19) whose settings are within a's limits. It hashes nothing.
func (a Argon2id) CanRead(hash []byte) bool {
	p, err := readArgon2(hash, a.limits())
	return err == nil && p.variant == "argon2id"
}

// NeedsRehash implements Hasher: true for an Argon2id hash made with other
// memory, passes or lanes than a's, or another salt or hash length than
// its 16 and 32 bytes.
func (a Argon2id) NeedsRehash(hash []byte) bool {
	p, err := readArgon2(hash, a.limits())
	if err != nil || p.variant != "argon2id" {
		return false
	}
	want := a.params()
	return p.memory != want.memory || p.time != want.time || p.threads != want.threads ||
		len(p.salt) != 16 || len(p.key) != 32
}

// argon2Params is a PHC-format Argon2 hash, read or to be written.
type argon2Params struct {
	variant               string // "argon2id" or "argon2i"
	memory, time, threads uint32
	salt, key             []byte
}

func (p argon2Params) derive(password []byte, keyLen uint32) []byte {
	if p.variant == "argon2i" {
		return argon2.Key(password, p.salt, p.time, p.memory, uint8(p.threads), keyLen)
	}
	return argon2.IDKey(password, p.salt, p.time, p.memory, uint8(p.threads), keyLen)
}

func (p argon2Params) check(password []byte) error {
	if subtle.ConstantTimeCompare(p.derive(password, uint32(len(p.key))), p.key) != 1 {
		return ErrMismatch
	}
	return nil
}

func (p argon2Params) encode() []byte {
	b := fmt.Appendf(nil, "$%s$v=%d$m=%d,t=%d,p=%d$", p.variant, argon2.Version, p.memory, p.time, p.threads)
	b = base64.RawStdEncoding.AppendEncode(b, p.salt)
	b = append(b, '$')
	return base64.RawStdEncoding.AppendEncode(b, p.key)
}

// readArgon2 reads a PHC Argon2i or Argon2id hash as the reference
// implementation writes it: "$argon2id$v=19$m=M,t=T,p=P$salt$hash", the
// parameters in that order, the salt 8 to 64 bytes, the hash 16 to 64,
// both unpadded standard base64 in canonical form. Version 16 (written
// without "v=") is refused: x/crypto implements version 19 only.
func readArgon2(hash []byte, lim Limits) (argon2Params, error) {
	var p argon2Params
	fields, err := splitHash(hash, 6)
	if err != nil {
		return p, err
	}
	p.variant = fields[1]
	bad := func(reason string, kind error) (argon2Params, error) {
		return p, &HashError{Scheme: p.variant, Reason: reason, Err: kind}
	}
	if p.variant != "argon2id" && p.variant != "argon2i" {
		return bad("not Argon2i or Argon2id", ErrUnknownHash)
	}
	if fields[2] != "v=19" {
		return bad("version is not v=19", ErrMalformedHash)
	}
	var m, t, l uint64
	if !scanParams(fields[3], []string{"m", "t", "p"}, []*uint64{&m, &t, &l}) {
		return bad("parameters are not m=<KiB>,t=<passes>,p=<lanes>", ErrMalformedHash)
	}
	if t < 1 || l < 1 || l > 255 || m < 8*l {
		return bad("parameters out of Argon2's range (t ≥ 1, 1 ≤ p ≤ 255, m ≥ 8p)", ErrMalformedHash)
	}
	if m > uint64(lim.MaxMemoryKiB) || t > uint64(lim.MaxPasses) || l > uint64(lim.MaxLanes) {
		return bad(fmt.Sprintf("m=%d,t=%d,p=%d is over the limits (m ≤ %d KiB, t ≤ %d, p ≤ %d)", m, t, l, lim.MaxMemoryKiB, lim.MaxPasses, lim.MaxLanes), ErrOverLimits)
	}
	p.memory, p.time, p.threads = uint32(m), uint32(t), uint32(l)
	if p.salt, err = decodeB64(fields[4], base64.RawStdEncoding, 8, 64); err != nil {
		return bad("salt: "+err.Error(), ErrMalformedHash)
	}
	if p.key, err = decodeB64(fields[5], base64.RawStdEncoding, 16, 64); err != nil {
		return bad("hash: "+err.Error(), ErrMalformedHash)
	}
	return p, nil
}

// scanParams reads "k1=v1,k2=v2,..." with exactly the keys given, in
// order, each value a decimal number (see parseNumber).
func scanParams(s string, keys []string, vals []*uint64) bool {
	for i, k := range keys {
		if len(s) < len(k)+1 || s[:len(k)] != k || s[len(k)] != '=' {
			return false
		}
		s = s[len(k)+1:]
		end := len(s)
		if i < len(keys)-1 {
			end = indexByte(s, ',')
			if end < 0 {
				return false
			}
		}
		n, ok := parseNumber(s[:end])
		if !ok {
			return false
		}
		*vals[i] = n
		if i < len(keys)-1 {
			s = s[end+1:]
		}
	}
	return true
}

func indexByte(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// parseNumber reads a decimal number of 1 to 10 digits without sign or
// leading zero, so that one number has one spelling.
func parseNumber(s string) (uint64, bool) {
	if len(s) == 0 || len(s) > 10 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(s, 10, 64)
	return n, err == nil
}

// decodeB64 decodes s in enc's canonical form (no stray bits), and checks
// that the result is min to max bytes long.
func decodeB64(s string, enc *base64.Encoding, min, max int) ([]byte, error) {
	b, err := enc.Strict().DecodeString(s)
	switch {
	case err != nil:
		return nil, errors.New("not base64 in canonical form")
	case len(b) < min || len(b) > max:
		return nil, fmt.Errorf("%d bytes, not %d to %d", len(b), min, max)
	}
	return b, nil
}
