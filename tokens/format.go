package tokens

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"hash"
	"hash/maphash"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/gatehouse-go/gatehouse/store"
)

// A token reads "gh" + kind letter + "_" + routing tag + "_" + secret, for
// example "ghs_k3p7_" followed by 43 URL-safe characters. The kind is
// visible so that a token pasted into the wrong place (or a log) is easy to
// recognise and so that a token of one kind is never accepted as another.
// The secret is 32 bytes (256 bits) from crypto/rand, unpadded base64url.
const (
	secretBytes = 32
	secretLen   = 43 // base64.RawURLEncoding.EncodedLen(secretBytes)
	tagLen      = 4
	prefixLen   = 4 // "ghs_"
	// Len is the length of every token gatehouse issues.
	Len = prefixLen + tagLen + 1 + secretLen
)

// kindLetters maps a kind to the letter of its prefix; index by store.Kind.
var kindLetters = [...]byte{0, 's', 'l', 'd', 'v', 'r', 'a', 'p', 'c', 't'}

func letter(k store.Kind) byte {
	if !k.Valid() {
		panic(fmt.Sprintf("tokens: invalid kind %d", k))
	}
	return kindLetters[k]
}

// KindOf returns the kind a token's prefix names, or 0 when the text does
// not have the shape of a gatehouse token. It does no I/O.
func KindOf(token string) store.Kind {
	if len(token) != Len || token[0] != 'g' || token[1] != 'h' || token[3] != '_' {
		return 0
	}
	for k := store.KindSession; k.Valid(); k++ {
		if kindLetters[k] == token[2] {
			return k
		}
	}
	return 0
}

// parse checks the token's shape and kind and returns the ID it is stored
// under. It rejects garbage before any store I/O and does not allocate.
func parse(kind store.Kind, token string) (store.ID, error) {
	if token == "" {
		return store.ID{}, ErrMissing
	}
	if len(token) != Len {
		return store.ID{}, ErrMalformed
	}
	if token[0] != 'g' || token[1] != 'h' || token[3] != '_' || token[prefixLen+tagLen] != '_' {
		return store.ID{}, ErrMalformed
	}
	if token[2] != letter(kind) {
		return store.ID{}, ErrWrongKind
	}
	if !ValidDerivedTag(token[prefixLen : prefixLen+tagLen]) {
		return store.ID{}, ErrMalformed
	}
	for i := prefixLen + tagLen + 1; i < Len; i++ {
		if !isSecretChar(token[i]) {
			return store.ID{}, ErrMalformed
		}
	}
	// The last character of 43 base64 characters carries only 4 bits: the
	// low 2 must be zero, so that every secret has exactly one spelling.
	if base64Value(token[Len-1])&3 != 0 {
		return store.ID{}, ErrMalformed
	}
	return store.ID{Tag: token[prefixLen : prefixLen+tagLen], Hash: hashToken(token)}, nil
}

// hashToken is the SHA-256 of the whole token, prefix included, so that a
// record is bound to its kind. The copy into an array keeps the conversion
// off the heap.
func hashToken(token string) [32]byte {
	var buf [Len]byte
	n := copy(buf[:], token)
	return sha256.Sum256(buf[:n])
}

// ValidDerivedTag reports whether tag has the shape of the routing tag
// this package derives for a subject and puts in a token: 4 characters of
// [a-z2-7]. Every such tag is also a valid store tag
// ([store.ValidRoutingTag]), whose syntax is wider.
func ValidDerivedTag(tag string) bool {
	if len(tag) != tagLen {
		return false
	}
	for i := 0; i < len(tag); i++ {
		if c := tag[i]; (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

func isSecretChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func base64Value(c byte) byte {
	switch {
	case c >= 'A' && c <= 'Z':
		return c - 'A'
	case c >= 'a' && c <= 'z':
		return c - 'a' + 26
	case c >= '0' && c <= '9':
		return c - '0' + 52
	case c == '-':
		return 62
	default:
		return 63
	}
}

const tagAlphabet = "abcdefghijklmnopqrstuvwxyz234567"

// tagFor derives the routing tag of a subject: a keyed hash, so the tag
// does not reveal the subject, short enough to spread over Redis Cluster's
// 16384 slots (20 bits) without bloating the token.
func tagFor(key []byte, subject string) string {
	tag := newTagger(key).derive(subject)
	return string(tag[:])
}

// A tagger derives routing tags under one key. Validation checks every
// token's tag against its record's subject, so the derivation runs on the
// hot path: recent subjects' tags are remembered in a small direct-mapped
// cache (a hit is a hash and a compare, ~20 ns, where the HMAC is ~200 ns),
// and the HMAC states and buffers are pooled, so that a derivation
// allocates nothing but the cache entry of a new subject.
type tagger struct {
	pool  sync.Pool // of *tagState
	seed  maphash.Seed
	cache [tagCacheSlots]atomic.Pointer[tagEntry]
}

// tagCacheSlots bounds the cache: 4096 subjects' entries, a few hundred
// KiB at most, whatever the traffic.
const tagCacheSlots = 4096

type tagEntry struct {
	subject string
	tag     [tagLen]byte
}

type tagState struct {
	mac   hash.Hash // HMAC-SHA256 under the key
	chunk [64]byte  // the subject, copied in pieces (a string is not a []byte)
	sum   [sha256.Size]byte
}

func newTagger(key []byte) *tagger {
	key = bytes.Clone(key)
	t := &tagger{seed: maphash.MakeSeed()}
	t.pool.New = func() any { return &tagState{mac: hmac.New(sha256.New, key)} }
	return t
}

// tag returns the subject's tag, from the cache when it is there.
func (t *tagger) tag(subject string) [tagLen]byte {
	slot := &t.cache[maphash.String(t.seed, subject)%tagCacheSlots]
	if e := slot.Load(); e != nil && e.subject == subject {
		return e.tag
	}
	tag := t.derive(subject)
	// A clone, so that the entry does not keep alive the buffer a store
	// decoded the subject from.
	slot.Store(&tagEntry{subject: strings.Clone(subject), tag: tag})
	return tag
}

// derive returns the subject's tag.
func (t *tagger) derive(subject string) [tagLen]byte {
	st := t.pool.Get().(*tagState)
	st.mac.Reset()
	for s := subject; len(s) > 0; {
		n := copy(st.chunk[:], s)
		st.mac.Write(st.chunk[:n])
		s = s[n:]
	}
	st.mac.Sum(st.sum[:0])
	bits := uint32(st.sum[0])<<16 | uint32(st.sum[1])<<8 | uint32(st.sum[2])
	t.pool.Put(st)
	var tag [tagLen]byte
	for i := range tag {
		tag[i] = tagAlphabet[bits&31]
		bits >>= 5
	}
	return tag
}

// generate returns a new token of the kind for the tag.
func generate(kind store.Kind, tag string) (string, error) {
	var secret [secretBytes]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return "", fmt.Errorf("tokens: reading random bytes: %w", err)
	}
	var buf [Len]byte
	copy(buf[:], "gh")
	buf[2] = letter(kind)
	buf[3] = '_'
	copy(buf[prefixLen:], tag)
	buf[prefixLen+tagLen] = '_'
	base64.RawURLEncoding.Encode(buf[prefixLen+tagLen+1:], secret[:])
	return string(buf[:]), nil
}

// randomID returns 128 random bits as text, for family ids.
func randomID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("tokens: reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// FromAuthorization returns the token of an "Authorization: Bearer <token>"
// header value, or "" when the value is not of that form.
func FromAuthorization(header string) string {
	const prefix = "Bearer "
	if len(header) > len(prefix) && strings.EqualFold(header[:len(prefix)], prefix) {
		return strings.TrimSpace(header[len(prefix):])
	}
	return ""
}
