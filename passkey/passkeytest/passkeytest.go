// Package passkeytest is a virtual WebAuthn authenticator and browser for
// tests: it makes passkeys (ECDSA P-256, Ed25519 or RSA keys) and answers
// the options of passkey.Manager's Begin methods with the JSON a browser
// sends (PublicKeyCredential.toJSON: base64url fields, a CBOR attestation
// object of format "none"), signed as an authenticator signs them.
//
// Each ceremony takes options that tamper with one thing, so that a test
// can show each check of the server refuses it: [WithoutUV], [WithOrigin],
// [WithRPID], [WithChallenge], [WithFlippedSignature], [WithCounter],
// [WithUserHandle], [WithPadding] and more.
//
// It imports nothing of gatehouse's, so any package's tests may use it.
// It is for tests only: its keys live in memory and it checks nothing.
package passkeytest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"

	"github.com/fxamacker/cbor/v2"
)

// COSE algorithms a Key can have.
const (
	ES256 = -7
	EdDSA = -8
	RS256 = -257
)

// Authenticator is a virtual authenticator in a browser at Origin. The
// zero value is not ready: use [New]. It is safe for concurrent use.
type Authenticator struct {
	// Origin is the origin the browser reports in clientDataJSON, such as
	// "https://example.com".
	Origin string
	// AAGUID names the authenticator model; zero by default, as passkey
	// providers that attest "none" give it.
	AAGUID [16]byte
	// Transports are reported at registration; default ["internal", "hybrid"].
	Transports []string

	mu sync.Mutex
}

// New returns an authenticator in a browser at origin.
func New(origin string) *Authenticator {
	return &Authenticator{Origin: origin, Transports: []string{"internal", "hybrid"}}
}

// Key is a credential the authenticator made: its private key, the user
// handle it was made for, and its signature counter.
type Key struct {
	ID         []byte
	RPID       string
	UserHandle []byte
	Alg        int
	// PublicKey is the key as a COSE_Key, as the registration carried it.
	PublicKey []byte
	// SignCount is the counter of the last signature; each Login signs
	// SignCount+1 (as a security key does) unless told otherwise.
	SignCount uint32
	// BackupEligible and BackedUp are the BE and BS flags it reports
	// (a synced passkey has both).
	BackupEligible, BackedUp bool

	signer crypto.Signer
}

// IDString is the credential ID as passkey.Credential.ID has it.
func (k *Key) IDString() string { return b64(k.ID) }

// Option changes one thing of a ceremony, most of them to break it.
type Option func(*ceremony)

type ceremony struct {
	alg        int
	noUV, noUP bool
	origin     *string
	rpID       *string
	challenge  *[]byte
	typ        *string
	credType   *string
	flipSig    bool
	counter    *uint32
	userHandle *[]byte
	padding    int
	noBackup   bool
	credID     []byte
}

// WithAlgorithm makes Register create a key of the COSE algorithm: ES256
// (the default), EdDSA or RS256.
func WithAlgorithm(alg int) Option { return func(c *ceremony) { c.alg = alg } }

// WithoutUV clears the user verified (UV) flag: no PIN, no biometric.
func WithoutUV() Option { return func(c *ceremony) { c.noUV = true } }

// WithoutUP clears the user present (UP) flag.
func WithoutUP() Option { return func(c *ceremony) { c.noUP = true } }

// WithOrigin reports another origin in clientDataJSON (a phishing site).
func WithOrigin(origin string) Option { return func(c *ceremony) { c.origin = &origin } }

// WithRPID signs for another RP ID (its hash in authenticatorData).
func WithRPID(rpID string) Option { return func(c *ceremony) { c.rpID = &rpID } }

// WithChallenge puts another challenge (raw bytes) in clientDataJSON.
func WithChallenge(challenge []byte) Option { return func(c *ceremony) { c.challenge = &challenge } }

// WithType puts another ceremony type in clientDataJSON, such as
// "webauthn.create" in a login.
func WithType(typ string) Option { return func(c *ceremony) { c.typ = &typ } }

// WithCredentialType sets the response's "type", "public-key" otherwise.
func WithCredentialType(typ string) Option { return func(c *ceremony) { c.credType = &typ } }

// WithFlippedSignature flips one bit of the signature.
func WithFlippedSignature() Option { return func(c *ceremony) { c.flipSig = true } }

// WithCounter signs with this counter (one that goes back, say) instead
// of the next one.
func WithCounter(n uint32) Option { return func(c *ceremony) { c.counter = &n } }

// WithUserHandle reports another user handle in an assertion; nil leaves
// it out.
func WithUserHandle(h []byte) Option { return func(c *ceremony) { c.userHandle = &h } }

// WithPadding adds a field of n bytes to the response JSON: a response
// that is valid but oversized.
func WithPadding(n int) Option { return func(c *ceremony) { c.padding = n } }

// WithoutBackup makes Register create a device-bound key (BE and BS
// clear), as a security key does.
func WithoutBackup() Option { return func(c *ceremony) { c.noBackup = true } }

// WithCredentialID makes Register use this credential ID.
func WithCredentialID(id []byte) Option { return func(c *ceremony) { c.credID = id } }

func build(opts []Option) *ceremony {
	c := &ceremony{alg: ES256}
	for _, o := range opts {
		o(c)
	}
	return c
}

// creationOptions is what Register reads of PublicKeyCredentialCreationOptions.
type creationOptions struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID string `json:"id"`
	} `json:"rp"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
}

// requestOptions is what Login reads of PublicKeyCredentialRequestOptions.
type requestOptions struct {
	Challenge string `json:"challenge"`
	RPID      string `json:"rpId"`
}

// Register answers creation options (the JSON of
// PublicKeyCredentialCreationOptions) with a new key: it returns the
// registration response JSON and the key. The key's counter starts at 0.
func (a *Authenticator) Register(options []byte, opts ...Option) ([]byte, *Key, error) {
	c := build(opts)
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, nil, fmt.Errorf("passkeytest: creation options: %w", err)
	}
	challenge, err := unb64(o.Challenge)
	if err != nil {
		return nil, nil, fmt.Errorf("passkeytest: challenge: %w", err)
	}
	handle, err := unb64(o.User.ID)
	if err != nil {
		return nil, nil, fmt.Errorf("passkeytest: user.id: %w", err)
	}
	k := &Key{RPID: o.RP.ID, UserHandle: handle, Alg: c.alg, BackupEligible: !c.noBackup, BackedUp: !c.noBackup}
	if k.signer, err = newSigner(c.alg); err != nil {
		return nil, nil, err
	}
	k.ID = c.credID
	if k.ID == nil {
		k.ID = make([]byte, 32)
		rand.Read(k.ID)
	}
	cose, err := coseKey(k.signer.Public(), c.alg)
	if err != nil {
		return nil, nil, err
	}
	k.PublicKey = cose
	a.mu.Lock()
	aaguid, transports := a.AAGUID, append([]string(nil), a.Transports...)
	a.mu.Unlock()

	rpID := k.RPID
	if c.rpID != nil {
		rpID = *c.rpID
	}
	count := uint32(0)
	if c.counter != nil {
		count = *c.counter
	}
	auth := authData(rpID, c.flags(k)|flagAT, count)
	auth = append(auth, aaguid[:]...)
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(k.ID)))
	auth = append(auth, k.ID...)
	auth = append(auth, cose...)
	k.SignCount = count

	att, err := encMode.Marshal(map[string]any{"fmt": "none", "attStmt": map[string]any{}, "authData": auth})
	if err != nil {
		return nil, nil, err
	}
	cd := a.clientData(c, "webauthn.create", challenge)
	resp := map[string]any{
		"id": b64(k.ID), "rawId": b64(k.ID), "type": c.credTypeOr(), "authenticatorAttachment": "platform",
		"clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON": b64(cd), "attestationObject": b64(att), "transports": transports,
		},
	}
	out, err := c.marshal(resp)
	return out, k, err
}

// Login answers request options (the JSON of
// PublicKeyCredentialRequestOptions) with an assertion by k, signed with
// k's next counter (k.SignCount is updated). It does not check k is in
// allowCredentials: the test decides what a browser would offer.
func (a *Authenticator) Login(options []byte, k *Key, opts ...Option) ([]byte, error) {
	c := build(opts)
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("passkeytest: request options: %w", err)
	}
	challenge, err := unb64(o.Challenge)
	if err != nil {
		return nil, fmt.Errorf("passkeytest: challenge: %w", err)
	}
	rpID := o.RPID
	if rpID == "" {
		rpID = k.RPID
	}
	if c.rpID != nil {
		rpID = *c.rpID
	}
	a.mu.Lock()
	count := k.SignCount + 1
	if c.counter != nil {
		count = *c.counter
	}
	if count > k.SignCount {
		k.SignCount = count
	}
	a.mu.Unlock()
	auth := authData(rpID, c.flags(k), count)
	cd := a.clientData(c, "webauthn.get", challenge)
	sig, err := sign(k, auth, cd)
	if err != nil {
		return nil, err
	}
	if c.flipSig {
		sig[len(sig)/2] ^= 1
	}
	handle := k.UserHandle
	if c.userHandle != nil {
		handle = *c.userHandle
	}
	r := map[string]any{"clientDataJSON": b64(cd), "authenticatorData": b64(auth), "signature": b64(sig)}
	if handle != nil {
		r["userHandle"] = b64(handle)
	}
	resp := map[string]any{
		"id": b64(k.ID), "rawId": b64(k.ID), "type": c.credTypeOr(), "authenticatorAttachment": "platform",
		"clientExtensionResults": map[string]any{}, "response": r,
	}
	return c.marshal(resp)
}

// ChallengeOf returns the challenge of creation or request options, raw:
// for passkey, the challenge token's text.
func ChallengeOf(options []byte) (string, error) {
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return "", err
	}
	b, err := unb64(o.Challenge)
	return string(b), err
}

const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

func (c *ceremony) flags(k *Key) byte {
	f := byte(flagUP | flagUV)
	if c.noUP {
		f &^= flagUP
	}
	if c.noUV {
		f &^= flagUV
	}
	if k.BackupEligible {
		f |= flagBE
	}
	if k.BackedUp {
		f |= flagBS
	}
	return f
}

func (c *ceremony) credTypeOr() string {
	if c.credType != nil {
		return *c.credType
	}
	return "public-key"
}

func (c *ceremony) marshal(resp map[string]any) ([]byte, error) {
	if c.padding > 0 {
		resp["padding"] = strings.Repeat("A", c.padding)
	}
	return json.Marshal(resp)
}

func (a *Authenticator) clientData(c *ceremony, typ string, challenge []byte) []byte {
	if c.typ != nil {
		typ = *c.typ
	}
	if c.challenge != nil {
		challenge = *c.challenge
	}
	a.mu.Lock()
	origin := a.Origin
	a.mu.Unlock()
	if c.origin != nil {
		origin = *c.origin
	}
	// Field order as browsers write it; the server must not depend on it.
	b, _ := json.Marshal(struct {
		Type        string `json:"type"`
		Challenge   string `json:"challenge"`
		Origin      string `json:"origin"`
		CrossOrigin bool   `json:"crossOrigin"`
	}{typ, b64(challenge), origin, false})
	return b
}

func authData(rpID string, flags byte, count uint32) []byte {
	h := sha256.Sum256([]byte(rpID))
	out := append(h[:], flags)
	return binary.BigEndian.AppendUint32(out, count)
}

var encMode = func() cbor.EncMode {
	m, err := cbor.CTAP2EncOptions().EncMode()
	if err != nil {
		panic(err)
	}
	return m
}()

func newSigner(alg int) (crypto.Signer, error) {
	switch alg {
	case ES256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case EdDSA:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		return priv, err
	case RS256:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("passkeytest: algorithm %d: want ES256, EdDSA or RS256", alg)
}

func coseKey(pub crypto.PublicKey, alg int) ([]byte, error) {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		e, err := p.ECDH()
		if err != nil {
			return nil, err
		}
		pt := e.Bytes() // 0x04 | x | y
		return encMode.Marshal(map[int]any{1: 2, 3: alg, -1: 1, -2: pt[1:33], -3: pt[33:]})
	case ed25519.PublicKey:
		return encMode.Marshal(map[int]any{1: 1, 3: alg, -1: 6, -2: []byte(p)})
	case *rsa.PublicKey:
		return encMode.Marshal(map[int]any{1: 3, 3: alg, -1: p.N.Bytes(), -2: big.NewInt(int64(p.E)).Bytes()})
	}
	return nil, errors.New("passkeytest: unknown key type")
}

// sign signs authData ‖ SHA-256(clientDataJSON), as WebAuthn §6.3.3 has
// an authenticator do.
func sign(k *Key, auth, clientData []byte) ([]byte, error) {
	cdh := sha256.Sum256(clientData)
	msg := append(append([]byte(nil), auth...), cdh[:]...)
	switch s := k.signer.(type) {
	case ed25519.PrivateKey:
		return ed25519.Sign(s, msg), nil
	case *ecdsa.PrivateKey:
		d := sha256.Sum256(msg)
		return ecdsa.SignASN1(rand.Reader, s, d[:])
	case *rsa.PrivateKey:
		d := sha256.Sum256(msg)
		return rsa.SignPKCS1v15(rand.Reader, s, crypto.SHA256, d[:])
	}
	return nil, errors.New("passkeytest: unknown key type")
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

func unb64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
