package mfa

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
)

// SealingKey is one AES-256 key of a [Keyring], named by an ID that every
// blob sealed under it carries.
type SealingKey struct {
	// ID names the key in sealed blobs: 1 to 32 characters of
	// [0-9A-Za-z._-], never reused for another secret.
	ID string
	// Secret is the AES-256 key: 32 bytes from crypto/rand, kept where
	// the app keeps its other secrets (not beside the blobs).
	Secret []byte
}

// Keyring seals factor secrets at rest with AES-256-GCM. It seals under
// its current key and opens blobs sealed under any of its keys, so keys
// rotate without a flag day:
//
//  1. Make a new key with a new ID; deploy NewKeyring(newKey, oldKey).
//     Blobs sealed before open with the old key; every write (an
//     enrolment, a used recovery code, [Manager.Rekey]) seals under the
//     new one.
//  2. Call [Manager.Rekey] for every subject with factors (or wait until
//     [Keyring.KeyID] of each stored blob names the new key).
//  3. Deploy NewKeyring(newKey) alone and destroy the old key.
//
// Each blob is bound to its subject (the subject is in the GCM additional
// data): a blob copied to another subject's row does not open. A Keyring
// is safe for concurrent use.
type Keyring struct {
	current string
	aeads   map[string]cipher.AEAD
}

// NewKeyring returns a Keyring that seals under current and opens under
// current and old. It refuses a key that is not 32 bytes, a bad or
// repeated ID.
func NewKeyring(current SealingKey, old ...SealingKey) (*Keyring, error) {
	k := &Keyring{current: current.ID, aeads: map[string]cipher.AEAD{}}
	for _, key := range append([]SealingKey{current}, old...) {
		if !validKeyID(key.ID) {
			return nil, fmt.Errorf("mfa: sealing key ID %q: want 1 to 32 characters of [0-9A-Za-z._-]", key.ID)
		}
		if len(key.Secret) != 32 {
			return nil, fmt.Errorf("mfa: sealing key %q has %d bytes, want 32 (AES-256)", key.ID, len(key.Secret))
		}
		if _, dup := k.aeads[key.ID]; dup {
			return nil, fmt.Errorf("mfa: sealing key ID %q given twice", key.ID)
		}
		block, err := aes.NewCipher(key.Secret)
		if err != nil {
			return nil, fmt.Errorf("mfa: sealing key %q: %w", key.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("mfa: sealing key %q: %w", key.ID, err)
		}
		k.aeads[key.ID] = aead
	}
	return k, nil
}

func validKeyID(id string) bool {
	if len(id) == 0 || len(id) > 32 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// The sealed blob: a version byte, the key ID's length and the key ID,
// a 12-byte nonce, then the ciphertext with its 16-byte tag. The header
// (version and key ID) and the subject are the additional data.
const (
	sealVersion = 1
	nonceSize   = 12
	tagSize     = 16
	// maxSealed bounds a blob Open reads: a record of ten recovery codes
	// and two TOTP keys is well under 2 KiB.
	maxSealed = 64 << 10
)

// Seal encrypts plaintext for subject under the current key.
func (k *Keyring) Seal(subject string, plaintext []byte) ([]byte, error) {
	return k.seal(rand.Reader, subject, plaintext)
}

func (k *Keyring) seal(r io.Reader, subject string, plaintext []byte) ([]byte, error) {
	aead := k.aeads[k.current]
	header := append([]byte{sealVersion, byte(len(k.current))}, k.current...)
	out := make([]byte, len(header)+nonceSize, len(header)+nonceSize+len(plaintext)+tagSize)
	copy(out, header)
	nonce := out[len(header):]
	if _, err := io.ReadFull(r, nonce); err != nil {
		return nil, fmt.Errorf("mfa: reading a nonce: %w", err)
	}
	return aead.Seal(out, nonce, plaintext, additional(header, subject)), nil
}

// Open decrypts a blob Seal made for subject. A blob that is malformed,
// tampered, sealed for another subject or under a key the ring lacks is
// an error wrapping [ErrUnsealed]; untrusted bytes never panic.
func (k *Keyring) Open(subject string, blob []byte) ([]byte, error) {
	id, header, rest, err := splitSealed(blob)
	if err != nil {
		return nil, err
	}
	aead, ok := k.aeads[id]
	if !ok {
		return nil, fmt.Errorf("%w: key %q is not in the keyring", ErrUnsealed, id)
	}
	plain, err := aead.Open(nil, rest[:nonceSize], rest[nonceSize:], additional(header, subject))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnsealed, err)
	}
	return plain, nil
}

// KeyID returns the ID of the key blob is sealed under, without opening it.
func KeyID(blob []byte) (string, error) {
	id, _, _, err := splitSealed(blob)
	return id, err
}

// Current returns the ID of the key the ring seals under.
func (k *Keyring) Current() string { return k.current }

func splitSealed(blob []byte) (id string, header, rest []byte, err error) {
	if len(blob) > maxSealed {
		return "", nil, nil, fmt.Errorf("%w: %d bytes, over %d", ErrUnsealed, len(blob), maxSealed)
	}
	if len(blob) < 2 || blob[0] != sealVersion {
		return "", nil, nil, fmt.Errorf("%w: not a sealed blob of version %d", ErrUnsealed, sealVersion)
	}
	n := int(blob[1])
	if len(blob) < 2+n+nonceSize+tagSize {
		return "", nil, nil, fmt.Errorf("%w: truncated", ErrUnsealed)
	}
	id = string(blob[2 : 2+n])
	if !validKeyID(id) {
		return "", nil, nil, fmt.Errorf("%w: bad key ID", ErrUnsealed)
	}
	return id, blob[:2+n], blob[2+n:], nil
}

// additional is the GCM additional data: a domain label, the header and
// the subject, so a blob opens only as the factors of its own subject.
func additional(header []byte, subject string) []byte {
	ad := make([]byte, 0, 32+len(header)+len(subject))
	ad = append(ad, "gatehouse mfa factors\x00"...)
	ad = append(ad, header...)
	return append(ad, subject...)
}

var errNoKeyring = errors.New("mfa: Config.Keyring is nil or not made by NewKeyring")
