package mfa

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Algorithm is the HMAC hash of a TOTP key (RFC 6238 section 1.2).
type Algorithm uint8

// The algorithms RFC 6238 names. SHA1 is what every authenticator app
// reads; the others are for apps that know theirs does.
const (
	SHA1 Algorithm = iota + 1
	SHA256
	SHA512
)

var algorithmNames = [...]string{"", "SHA1", "SHA256", "SHA512"}

// String returns the name an otpauth URI gives the algorithm, such as "SHA1".
func (a Algorithm) String() string {
	if a.Valid() {
		return algorithmNames[a]
	}
	return "unknown"
}

// Valid reports whether a is one of SHA1, SHA256 and SHA512.
func (a Algorithm) Valid() bool { return a >= SHA1 && a <= SHA512 }

func (a Algorithm) hash() func() hash.Hash {
	switch a {
	case SHA256:
		return sha256.New
	case SHA512:
		return sha512.New
	}
	return sha1.New
}

// parseAlgorithm reads an algorithm name, in any case.
func parseAlgorithm(s string) (Algorithm, bool) {
	for a := SHA1; a <= SHA512; a++ {
		if strings.EqualFold(s, algorithmNames[a]) {
			return a, true
		}
	}
	return 0, false
}

// MinSecretSize is the least number of bytes a TOTP secret may have: 160
// bits, as RFC 4226 section 4 requires (devise-two-factor CVE-2024-8796
// made 120-bit ones).
const MinSecretSize = 20

// maxSecretSize bounds what a parsed URI may carry.
const maxSecretSize = 128

// TOTPKey is a TOTP key with what an authenticator app needs to know of
// it: the otpauth URI's fields.
type TOTPKey struct {
	Issuer    string        // the app's name, shown in the authenticator
	Account   string        // the user's name there, such as an email address
	Secret    []byte        // at least MinSecretSize bytes
	Algorithm Algorithm     // SHA1 when zero
	Digits    int           // 6 or 8; 6 when zero
	Period    time.Duration // the time step, whole seconds from 1s to 10m; 30s when zero
}

func (k TOTPKey) withDefaults() TOTPKey {
	if k.Algorithm == 0 {
		k.Algorithm = SHA1
	}
	if k.Digits == 0 {
		k.Digits = 6
	}
	if k.Period == 0 {
		k.Period = 30 * time.Second
	}
	return k
}

func (k TOTPKey) check() error {
	switch {
	case len(k.Secret) < MinSecretSize:
		return fmt.Errorf("mfa: a TOTP secret of %d bits, want at least %d", len(k.Secret)*8, MinSecretSize*8)
	case len(k.Secret) > maxSecretSize:
		return fmt.Errorf("mfa: a TOTP secret of %d bytes, want at most %d", len(k.Secret), maxSecretSize)
	case !k.Algorithm.Valid():
		return fmt.Errorf("mfa: TOTP algorithm %d", k.Algorithm)
	case k.Digits != 6 && k.Digits != 8:
		return fmt.Errorf("mfa: TOTP codes of %d digits, want 6 or 8", k.Digits)
	case k.Period < time.Second || k.Period > 10*time.Minute || k.Period%time.Second != 0:
		return fmt.Errorf("mfa: TOTP period %v, want whole seconds from 1s to 10m", k.Period)
	}
	return nil
}

// step returns the time step t falls in (RFC 6238's T, with T0 = 0).
func (k TOTPKey) step(t time.Time) int64 {
	return floorDiv(t.Unix(), int64(k.Period/time.Second))
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

// Code returns the key's code at t, as an authenticator shows it, or ""
// for a key that is not valid (a secret under MinSecretSize, digits other
// than 6 or 8, a period that is not whole seconds from 1s to 10m). It is
// for tests and tools; apps check codes with [Manager.Verify], which
// burns the step.
func (k TOTPKey) Code(t time.Time) string {
	k = k.withDefaults()
	if k.check() != nil {
		return "" // digits over 8 index past pow10, a period under 1s divides by zero
	}
	return hotp(k.Secret, k.Algorithm, k.Digits, uint64(k.step(t)))
}

var pow10 = [...]uint32{1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000}

// hotp is RFC 4226's HOTP value of counter, with digits digits.
func hotp(secret []byte, alg Algorithm, digits int, counter uint64) string {
	var out [8]byte
	return string(hotpTo(hmac.New(alg.hash(), secret), digits, counter, &out))
}

// hotpTo writes the HOTP value of counter to out and returns its digits,
// with mac (keyed by the secret) reset and reused: the three steps of
// one check share it.
func hotpTo(mac hash.Hash, digits int, counter uint64, out *[8]byte) []byte {
	var msg [8]byte
	var sum [sha512.Size]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac.Reset()
	mac.Write(msg[:])
	h := mac.Sum(sum[:0])
	off := h[len(h)-1] & 0x0f
	v := (binary.BigEndian.Uint32(h[off:off+4]) & 0x7fffffff) % pow10[digits]
	for i := digits - 1; i >= 0; i-- {
		out[i] = byte('0' + v%10)
		v /= 10
	}
	return out[:digits]
}

// b32 is the otpauth secret's encoding: RFC 4648 base32 without padding.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// URI returns the key's otpauth URI (Google Authenticator's Key Uri Format),
// such as
//
//	otpauth://totp/Example:alice@example.com?algorithm=SHA1&digits=6&issuer=Example&period=30&secret=...
//
// The issuer and account in the label, and every parameter, are escaped
// with net/url (a ':' in them too), so a name holding ':', '/', '?', '#'
// or '&' cannot change the URI's meaning.
func (k TOTPKey) URI() string {
	k = k.withDefaults()
	label := labelEscape(k.Account)
	if k.Issuer != "" {
		label = labelEscape(k.Issuer) + ":" + label
	}
	q := url.Values{}
	q.Set("secret", b32.EncodeToString(k.Secret))
	if k.Issuer != "" {
		q.Set("issuer", k.Issuer)
	}
	q.Set("algorithm", k.Algorithm.String())
	q.Set("digits", strconv.Itoa(k.Digits))
	q.Set("period", strconv.Itoa(int(k.Period/time.Second)))
	return "otpauth://totp/" + label + "?" + q.Encode()
}

// labelEscape escapes one part of the label as a path segment, and its
// ':' too, the separator of issuer and account.
func labelEscape(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
}

// ErrKeyURI is wrapped by every error of [ParseKeyURI].
var ErrKeyURI = errors.New("mfa: invalid otpauth URI")

// maxURI bounds the URI ParseKeyURI reads.
const maxURI = 2048

// ParseKeyURI reads an otpauth://totp/ URI, as [TOTPKey.URI] writes it.
// It refuses HOTP URIs, secrets under [MinSecretSize], and an issuer in
// the label that differs from the issuer parameter. Untrusted input gives
// an error wrapping [ErrKeyURI], never a panic.
func ParseKeyURI(s string) (TOTPKey, error) {
	bad := func(format string, a ...any) (TOTPKey, error) {
		return TOTPKey{}, fmt.Errorf("%w: "+format, append([]any{ErrKeyURI}, a...)...)
	}
	if len(s) > maxURI {
		return bad("%d bytes, over %d", len(s), maxURI)
	}
	u, err := url.Parse(s)
	if err != nil {
		return bad("%v", err)
	}
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Opaque != "" || u.User != nil || u.Fragment != "" {
		return bad("not an otpauth://totp/ URI")
	}
	label := strings.TrimPrefix(u.EscapedPath(), "/")
	if label == "" || strings.Contains(label, "/") {
		return bad("label %q", label)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return bad("query: %v", err)
	}
	for name, vs := range q {
		if len(vs) != 1 {
			return bad("parameter %q given %d times", name, len(vs))
		}
	}
	var k TOTPKey
	issuer, account, hasIssuer := strings.Cut(label, ":")
	if !hasIssuer {
		issuer, account = "", label
	}
	if k.Issuer, err = url.PathUnescape(issuer); err != nil {
		return bad("label: %v", err)
	}
	if k.Account, err = url.PathUnescape(account); err != nil {
		return bad("label: %v", err)
	}
	k.Account = strings.TrimLeft(k.Account, " ")
	if p := q.Get("issuer"); p != "" {
		if k.Issuer != "" && k.Issuer != p {
			return bad("issuer %q in the label, %q in the parameter", k.Issuer, p)
		}
		k.Issuer = p
	}
	secret := strings.ToUpper(strings.TrimRight(q.Get("secret"), "="))
	if len(secret) > maxSecretSize*8/5+1 {
		return bad("secret too long")
	}
	if k.Secret, err = b32.DecodeString(secret); err != nil {
		return bad("secret: %v", err)
	}
	k.Algorithm, k.Digits, k.Period = SHA1, 6, 30*time.Second
	if a := q.Get("algorithm"); a != "" {
		var ok bool
		if k.Algorithm, ok = parseAlgorithm(a); !ok {
			return bad("algorithm %q", a)
		}
	}
	if d := q.Get("digits"); d != "" {
		if k.Digits, err = strconv.Atoi(d); err != nil {
			return bad("digits %q", d)
		}
	}
	if p := q.Get("period"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 600 {
			return bad("period %q", p)
		}
		k.Period = time.Duration(n) * time.Second
	}
	if err := k.check(); err != nil {
		return bad("%v", err)
	}
	return k, nil
}

// newSecret reads n bytes from r with io.ReadFull: a short read is an
// error, never a shorter secret (pquerna/otp once kept what a short read
// gave it).
func newSecret(r io.Reader, n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("mfa: reading a secret of %d bytes: %w", n, err)
	}
	return b, nil
}

// maxCodeInput bounds what parseCode reads: spaces allowed between digits
// do not let a code grow without end.
const maxCodeInput = 32

// parseCode returns the digits of a TOTP code as a user typed it (spaces
// and one hyphen's worth of grouping allowed: "123 456", "123-456"), or
// ErrMalformedCode when it is not digits digits.
func parseCode(s string, digits int) (string, error) {
	if len(s) > maxCodeInput {
		return "", ErrMalformedCode
	}
	var b [8]byte
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			if n == digits {
				return "", ErrMalformedCode
			}
			b[n] = c
			n++
		case c == ' ' || c == '-':
		default:
			return "", ErrMalformedCode
		}
	}
	if n != digits {
		return "", ErrMalformedCode
	}
	return string(b[:n]), nil
}
