package mfa

import (
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"io"
)

// RecoveryCodeCount is how many recovery codes a set has.
const RecoveryCodeCount = 10

// A recovery code is 16 characters of Crockford's base32 (80 bits from
// crypto/rand), shown as four groups of four: "7KQ2-M9XD-4HRT-B0CE".
// Crockford's alphabet has no I, L, O or U, so what a user reads back
// cannot be misread; parsing ignores case, spaces and hyphens, and takes
// I and L for 1, O for 0.
const (
	recoveryChars    = 16
	recoveryAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	// maxRecoveryInput bounds what parseRecoveryCode reads.
	maxRecoveryInput = 64
)

// newRecoveryCode returns a code in its display form.
func newRecoveryCode(r io.Reader) (string, error) {
	var raw [10]byte // 80 bits: 16 characters of 5 bits
	if _, err := io.ReadFull(r, raw[:]); err != nil {
		return "", fmt.Errorf("mfa: reading a recovery code: %w", err)
	}
	var bits uint64
	var nbits uint
	out := make([]byte, 0, recoveryChars+3)
	for _, b := range raw {
		bits = bits<<8 | uint64(b)
		nbits += 8
		for nbits >= 5 {
			nbits -= 5
			if len(out) == 4 || len(out) == 9 || len(out) == 14 {
				out = append(out, '-')
			}
			out = append(out, recoveryAlphabet[(bits>>nbits)&31])
		}
	}
	return string(out), nil
}

// parseRecoveryCode returns the canonical form of a code as a user typed
// it (16 characters of the alphabet, upper case), or ErrMalformedCode.
func parseRecoveryCode(s string) (string, error) {
	if len(s) > maxRecoveryInput {
		return "", ErrMalformedCode
	}
	var b [recoveryChars]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '-' {
			continue
		}
		if c >= 'a' && c <= 'z' {
			c -= 'a' - 'A'
		}
		switch c {
		case 'I', 'L':
			c = '1'
		case 'O':
			c = '0'
		}
		if c == 'U' || !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return "", ErrMalformedCode
		}
		if n == recoveryChars {
			return "", ErrMalformedCode
		}
		b[n] = c
		n++
	}
	if n != recoveryChars {
		return "", ErrMalformedCode
	}
	return string(b[:]), nil
}

// hashRecoveryCode is what is kept of a code: SHA-256 over a domain label,
// the subject and the canonical code. A fast hash is enough at 80 bits
// (2^80 guesses are out of reach, as for tokens at 256), unlike a
// password's few bits that need bcrypt; the subject in it makes each
// hash good for one account only.
func hashRecoveryCode(subject, canonical string) []byte {
	h := sha256.New()
	h.Write([]byte("gatehouse mfa recovery code\x00"))
	h.Write([]byte(subject))
	h.Write([]byte{0})
	h.Write([]byte(canonical))
	return h.Sum(nil)
}

// findRecoveryCode returns the index of sum among hashes, or -1. It
// compares with every hash in constant time, so the time taken says
// nothing of which (or whether one) matched.
func findRecoveryCode(hashes [][]byte, sum []byte) int {
	found := -1
	for i, h := range hashes {
		if subtle.ConstantTimeCompare(h, sum) == 1 {
			found = i
		}
	}
	return found
}
