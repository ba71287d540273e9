package passkey

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncbor"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

const storeKindChallenge = store.KindChallenge

func coseAlg(a int) webauthncose.COSEAlgorithmIdentifier {
	return webauthncose.COSEAlgorithmIdentifier(a)
}

// The ceremony a challenge was issued for, kept in its record's Project:
// a challenge of one ceremony never finishes another.
const (
	ceremonyCreate   = "passkey.create"
	ceremonyGet      = "passkey.get"
	ceremonyDiscover = "passkey.discover"
)

// discoverPrefix starts the Subject of a passwordless login's challenge,
// whose user is not known until the response names them. Each challenge
// gets a random subject after it, rather than one marker for all, so that
// no one subject index (one Redis Cluster slot) takes every passwordless
// login of the app. It cannot be a user's subject: a ':' and 26
// characters after it, and only the discover ceremony reads it.
const discoverPrefix = "passkey:discover:"

// MaxNicknameLen is the longest nickname, in bytes.
const MaxNicknameLen = 64

// maxName bounds the user's names in the creation options: authenticators
// may truncate at 64 bytes, and nothing longer is a name.
const maxName = 256

// Result is what a login ceremony proved.
type Result struct {
	// Credential is the passkey used, its counter and LastUsed updated.
	Credential Credential
	// UserVerified reports the UV flag: the authenticator checked a PIN or
	// a biometric. Always true under UVRequired.
	UserVerified bool
	// CloneWarning reports a signature counter that did not go up; only
	// ever true with Config.AllowCloneWarning (otherwise the login fails).
	CloneWarning bool
}

// user is a subject as go-webauthn asks for one.
type user struct {
	id, name, display string
	creds             []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return []byte(u.id) }
func (u *user) WebAuthnName() string                       { return u.name }
func (u *user) WebAuthnDisplayName() string                { return u.display }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

func libCredential(s *stored) webauthn.Credential {
	ts := make([]protocol.AuthenticatorTransport, len(s.Transports))
	for i, t := range s.Transports {
		ts[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID: s.ID, PublicKey: s.PublicKey, AttestationFormat: s.Format, Transport: ts,
		Flags:         webauthn.CredentialFlags{UserPresent: true, UserVerified: s.UserVerified, BackupEligible: s.BackupEligible, BackupState: s.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: s.AAGUID, SignCount: s.SignCount},
	}
}

func descriptors(rec record) []protocol.CredentialDescriptor {
	out := make([]protocol.CredentialDescriptor, len(rec.Creds))
	for i := range rec.Creds {
		c := libCredential(&rec.Creds[i])
		out[i] = c.Descriptor()
	}
	return out
}

// issue makes a challenge token for the ceremony: its text, as bytes, is
// the WebAuthn challenge, so the clientDataJSON of the response names the
// token, and finishing consumes it.
func (m *Manager) issue(ctx context.Context, subject, ceremony string) (string, error) {
	iss, err := m.cfg.Tokens.Issue(ctx, store.KindChallenge, tokens.Claims{Subject: subject, Project: ceremony})
	if err != nil {
		return "", fmt.Errorf("passkey: issuing a challenge: %w", err)
	}
	return iss.Token, nil
}

// BeginRegistration starts adding a passkey to subject's account and
// returns the JSON of PublicKeyCredentialCreationOptions for the browser
// (PublicKeyCredential.parseCreationOptionsFromJSON, then
// navigator.credentials.create). userName (an email address, say) and
// displayName are what the authenticator shows; the user handle is the
// subject itself, so subjects must be opaque ids of at most 64 bytes,
// never personal data ([ErrInvalidSubject]). The subject's passkeys are
// excluded (the browser will not make a second one on the same
// authenticator); the key is discoverable; [ErrLimit] when the account
// has Config.MaxCredentials already. Call it for a signed-in user only,
// after a recent authentication.
func (m *Manager) BeginRegistration(ctx context.Context, subject, userName, displayName string) ([]byte, error) {
	if err := checkSubject(subject); err != nil {
		return nil, err
	}
	if userName == "" || len(userName) > maxName || len(displayName) > maxName {
		return nil, fmt.Errorf("passkey: BeginRegistration: userName of %d bytes, displayName of %d: want 1 to %d", len(userName), len(displayName), maxName)
	}
	if displayName == "" {
		displayName = userName
	}
	l, err := m.load(ctx, subject)
	if err != nil {
		return nil, err
	}
	if len(l.rec.Creds) >= m.cfg.MaxCredentials {
		return nil, ErrLimit
	}
	tok, err := m.issue(ctx, subject, ceremonyCreate)
	if err != nil {
		return nil, err
	}
	u := &user{id: subject, name: userName, display: displayName}
	creation, _, err := m.wa.BeginRegistration(u,
		webauthn.WithExclusions(descriptors(l.rec)),
		webauthn.WithCredentialParameters(m.params),
		func(o *protocol.PublicKeyCredentialCreationOptions) error {
			o.Challenge = protocol.URLEncodedBase64(tok)
			o.Timeout = int(m.ttl.Milliseconds())
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return json.Marshal(creation.Response)
}

// FinishRegistration checks the browser's response to the options of
// BeginRegistration (the JSON of the PublicKeyCredential, as
// PublicKeyCredential.toJSON gives it) and stores the new passkey under
// nickname (may be empty). The challenge is spent whatever the outcome.
// It refuses, each with its code: a response over MaxResponseBytes, one
// that does not parse, a challenge not live or not this subject's
// registration's, a missing UV flag under UVRequired, an algorithm not in
// Config.Algorithms, a wrong origin, RP ID or ceremony type, a credential
// already registered, an account at its limit.
func (m *Manager) FinishRegistration(ctx context.Context, subject string, response []byte, nickname string) (Credential, error) {
	c, err := m.finishRegistration(ctx, subject, response, nickname)
	if err != nil {
		m.failed(ctx, subject, ceremonyCreate, err)
		return Credential{}, err
	}
	m.rec.Record(ctx, audit.PasskeyRegistered, slog.String(audit.KeySubject, subject), slog.String(audit.KeyCredential, c.ID))
	return c, nil
}

func (m *Manager) finishRegistration(ctx context.Context, subject string, response []byte, nickname string) (Credential, error) {
	if err := checkSubject(subject); err != nil {
		return Credential{}, err
	}
	if err := checkNickname(nickname); err != nil {
		return Credential{}, err
	}
	parsed, err := m.parseCreation(response)
	if err != nil {
		return Credential{}, err
	}
	tok, err := m.consume(ctx, parsed.Response.CollectedClientData.Challenge, ceremonyCreate, subject)
	if err != nil {
		return Credential{}, err
	}
	authData := parsed.Response.AttestationObject.AuthData
	// Checked here as well as by the library, with codes of their own: the
	// library's errors are one kind for every failure.
	if m.cfg.UserVerification == UVRequired && !authData.Flags.HasUserVerified() {
		return Credential{}, ErrUserVerificationRequired
	}
	var pk webauthncose.PublicKeyData
	if err := webauthncbor.Unmarshal(authData.AttData.CredentialPublicKey, &pk); err != nil {
		return Credential{}, fmt.Errorf("%w: credential public key: %v", ErrMalformedResponse, err)
	}
	if !m.algAllowed(int(pk.Algorithm)) {
		return Credential{}, fmt.Errorf("%w: COSE algorithm %d", ErrUnsupportedAlgorithm, pk.Algorithm)
	}
	u := &user{id: subject}
	session := webauthn.SessionData{
		Challenge:        base64.RawURLEncoding.EncodeToString([]byte(tok)),
		RelyingPartyID:   m.cfg.RPID,
		UserID:           []byte(subject),
		UserVerification: m.cfg.UserVerification.protocol(),
		CredParams:       m.params,
	}
	lc, err := m.wa.CreateCredential(u, session, parsed)
	if err != nil {
		return Credential{}, fmt.Errorf("%w: %v", ErrInvalidCredential, libError(err))
	}
	s := stored{
		ID: lc.ID, PublicKey: lc.PublicKey, Alg: int(pk.Algorithm), SignCount: lc.Authenticator.SignCount,
		BackupEligible: lc.Flags.BackupEligible, BackupState: lc.Flags.BackupState, UserVerified: lc.Flags.UserVerified,
		AAGUID: lc.Authenticator.AAGUID, Format: lc.AttestationFormat, Nickname: nickname, Created: m.cfg.Now().UTC(),
	}
	for _, t := range lc.Transport {
		if len(s.Transports) < 8 && len(t) <= 32 { // the client's words: keep them bounded
			s.Transports = append(s.Transports, string(t))
		}
	}
	err = m.update(ctx, subject, func(rec *record) error {
		if rec.find(s.ID) >= 0 {
			return ErrExists
		}
		if len(rec.Creds) >= m.cfg.MaxCredentials {
			return ErrLimit
		}
		rec.Creds = append(rec.Creds, s)
		return nil
	})
	if err != nil {
		return Credential{}, err
	}
	return s.public(), nil
}

func (m *Manager) algAllowed(a int) bool {
	for _, x := range m.cfg.Algorithms {
		if x == a {
			return true
		}
	}
	return false
}

// BeginLogin starts a second-factor login of subject (after the
// password): the options (JSON of PublicKeyCredentialRequestOptions) list
// the subject's passkeys in allowCredentials. [ErrNotFound] when the
// subject has none.
func (m *Manager) BeginLogin(ctx context.Context, subject string) ([]byte, error) {
	l, err := m.load(ctx, subject)
	if err != nil {
		return nil, err
	}
	if len(l.rec.Creds) == 0 {
		return nil, ErrNotFound
	}
	tok, err := m.issue(ctx, subject, ceremonyGet)
	if err != nil {
		return nil, err
	}
	u := &user{id: subject, creds: make([]webauthn.Credential, len(l.rec.Creds))}
	for i := range l.rec.Creds {
		u.creds[i] = libCredential(&l.rec.Creds[i])
	}
	a, _, err := m.wa.BeginLogin(u, m.loginOptions(tok)...)
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return json.Marshal(a.Response)
}

// BeginPasswordless starts a login by passkey alone: the options have no
// allowCredentials, and the browser offers the user every passkey it has
// for the RP ID; the response's user handle says whose it is. It keeps a
// challenge in the store for each call from anyone: put a rate limit per
// client in front of it (limit.Limiter), as in front of a password login.
func (m *Manager) BeginPasswordless(ctx context.Context) ([]byte, error) {
	tok, err := m.issue(ctx, discoverPrefix+rand.Text(), ceremonyDiscover)
	if err != nil {
		return nil, err
	}
	a, _, err := m.wa.BeginDiscoverableLogin(m.loginOptions(tok)...)
	if err != nil {
		return nil, fmt.Errorf("passkey: %w", err)
	}
	return json.Marshal(a.Response)
}

func (m *Manager) loginOptions(tok string) []webauthn.LoginOption {
	return []webauthn.LoginOption{
		webauthn.WithChallenge([]byte(tok)),
		webauthn.WithUserVerification(m.cfg.UserVerification.protocol()),
		func(o *protocol.PublicKeyCredentialRequestOptions) error {
			o.Timeout = int(m.ttl.Milliseconds())
			return nil
		},
	}
}

// FinishLogin checks the browser's response to BeginLogin's options for
// subject: the challenge (spent whatever the outcome; of concurrent
// finishes with one challenge at most one passes), the credential (one of
// the subject's), the origin, RP ID hash, ceremony type, signature, the
// UV flag under UVRequired, and the signature counter, which must go up
// ([ErrCloneDetected]). It updates the counter and LastUsed.
func (m *Manager) FinishLogin(ctx context.Context, subject string, response []byte) (Result, error) {
	res, err := m.finishLogin(ctx, subject, response)
	m.loggedIn(ctx, subject, ceremonyGet, res, err)
	return res, err
}

func (m *Manager) finishLogin(ctx context.Context, subject string, response []byte) (Result, error) {
	if subject == "" {
		return Result{}, ErrInvalidSubject
	}
	parsed, err := m.parseAssertion(response)
	if err != nil {
		return Result{}, err
	}
	tok, err := m.consume(ctx, parsed.Response.CollectedClientData.Challenge, ceremonyGet, subject)
	if err != nil {
		return Result{}, err
	}
	return m.verifyAssertion(ctx, subject, tok, parsed, false)
}

// FinishPasswordless checks the browser's response to BeginPasswordless's
// options, as FinishLogin does, and returns the subject the passkey
// belongs to (its user handle). Only a UV-verified passkey should stand
// alone as a login: keep UVRequired for it.
func (m *Manager) FinishPasswordless(ctx context.Context, response []byte) (string, Result, error) {
	subject, res, err := m.finishPasswordless(ctx, response)
	m.loggedIn(ctx, subject, ceremonyDiscover, res, err)
	if err != nil {
		return "", Result{}, err
	}
	return subject, res, nil
}

func (m *Manager) finishPasswordless(ctx context.Context, response []byte) (string, Result, error) {
	parsed, err := m.parseAssertion(response)
	if err != nil {
		return "", Result{}, err
	}
	tok, err := m.consume(ctx, parsed.Response.CollectedClientData.Challenge, ceremonyDiscover, "")
	if err != nil {
		return "", Result{}, err
	}
	handle := parsed.Response.UserHandle
	if len(handle) == 0 {
		// A discoverable credential always returns its user handle.
		return "", Result{}, fmt.Errorf("%w: no user handle", ErrInvalidCredential)
	}
	subject := string(handle)
	if checkSubject(subject) != nil || !utf8.ValidString(subject) {
		return "", Result{}, ErrUnknownCredential
	}
	res, err := m.verifyAssertion(ctx, subject, tok, parsed, true)
	return subject, res, err
}

// verifyAssertion checks an assertion whose challenge tok was consumed
// against subject's passkeys, then records the new counter.
func (m *Manager) verifyAssertion(ctx context.Context, subject, tok string, parsed *protocol.ParsedCredentialAssertionData, discoverable bool) (Result, error) {
	l, err := m.load(ctx, subject)
	if err != nil {
		return Result{}, err
	}
	i := l.rec.find(parsed.RawID)
	if i < 0 {
		return Result{}, ErrUnknownCredential
	}
	flags := parsed.Response.AuthenticatorData.Flags
	if m.cfg.UserVerification == UVRequired && !flags.HasUserVerified() {
		return Result{}, ErrUserVerificationRequired
	}
	u := &user{id: subject, creds: []webauthn.Credential{libCredential(&l.rec.Creds[i])}}
	session := webauthn.SessionData{
		Challenge:        base64.RawURLEncoding.EncodeToString([]byte(tok)),
		RelyingPartyID:   m.cfg.RPID,
		UserID:           []byte(subject),
		UserVerification: m.cfg.UserVerification.protocol(),
	}
	if !discoverable {
		// The subject's passkeys were the allowCredentials; the one used is
		// one of them (found above), which is what the list restricts.
		session.AllowedCredentialIDs = [][]byte{l.rec.Creds[i].ID}
	}
	if _, err := m.wa.ValidateLogin(u, session, parsed); err != nil {
		return Result{}, fmt.Errorf("%w: %v", ErrInvalidCredential, libError(err))
	}
	count := parsed.Response.AuthenticatorData.Counter
	var res Result
	err = m.update(ctx, subject, func(rec *record) error {
		res = Result{}
		j := rec.find(parsed.RawID)
		if j < 0 {
			return ErrUnknownCredential // removed meanwhile
		}
		c := &rec.Creds[j]
		// The counter is compared with the value read in this very swap,
		// not the one the signature was checked against: of two logins
		// racing with counters 5 and 6, the 5 that comes second is
		// refused.
		res.UserVerified = flags.HasUserVerified()
		if (count != 0 || c.SignCount != 0) && count <= c.SignCount {
			res.CloneWarning = true
			if !m.cfg.AllowCloneWarning {
				return ErrCloneDetected
			}
		} else {
			c.SignCount = count
		}
		c.BackupState = flags.HasBackupState()
		c.UserVerified = c.UserVerified || flags.HasUserVerified()
		c.LastUsed = m.cfg.Now().UTC()
		res.Credential = c.public()
		return nil
	})
	if res.CloneWarning {
		// Recorded once, after the swap: f may run again on a conflict.
		m.rec.Record(ctx, audit.PasskeyCloneWarning, slog.String(audit.KeySubject, subject),
			slog.String(audit.KeyCredential, base64.RawURLEncoding.EncodeToString(parsed.RawID)))
	}
	if err != nil {
		return Result{}, err
	}
	return res, nil
}

// consume spends the challenge a response's clientDataJSON names and
// checks it was issued for this ceremony and subject ("" for a
// passwordless login). The token is consumed before anything else is
// compared, atomically: a challenge opens once, whoever presents it.
func (m *Manager) consume(ctx context.Context, challenge, ceremony, subject string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(challenge)
	if err != nil || tokens.KindOf(string(raw)) != store.KindChallenge {
		return "", ErrInvalidChallenge // garbage: no store I/O
	}
	tok := string(raw)
	rec, err := m.cfg.Tokens.Consume(ctx, store.KindChallenge, tok)
	if errors.Is(err, tokens.ErrTagMismatch) {
		// Instances disagree on tokens.Config.TagKey: the operator's to
		// fix, so it is told as auth tells it.
		m.rec.Record(ctx, audit.TokenTagMismatch, slog.String(audit.KeyKind, store.KindChallenge.String()))
	}
	switch {
	case errors.Is(err, tokens.ErrInvalid), errors.Is(err, tokens.ErrMalformed), errors.Is(err, tokens.ErrWrongKind),
		errors.Is(err, tokens.ErrMissing), errors.Is(err, tokens.ErrTagMismatch):
		return "", ErrInvalidChallenge
	case err != nil:
		return "", fmt.Errorf("passkey: consuming the challenge: %w", err)
	}
	if rec.Project != ceremony {
		return "", fmt.Errorf("%w: issued for another ceremony", ErrInvalidChallenge)
	}
	if subject == "" {
		if !strings.HasPrefix(rec.Subject, discoverPrefix) {
			return "", fmt.Errorf("%w: not a passwordless challenge", ErrInvalidChallenge)
		}
	} else if rec.Subject != subject {
		return "", fmt.Errorf("%w: issued for another subject", ErrInvalidChallenge)
	}
	return tok, nil
}

// parseCreation parses a registration response, bounded in size.
func (m *Manager) parseCreation(response []byte) (p *protocol.ParsedCredentialCreationData, err error) {
	if err := m.checkSize(response); err != nil {
		return nil, err
	}
	defer recoverMalformed(&err)
	p, err = protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedResponse, libError(err))
	}
	return p, nil
}

// parseAssertion parses a login response, bounded in size.
func (m *Manager) parseAssertion(response []byte) (p *protocol.ParsedCredentialAssertionData, err error) {
	if err := m.checkSize(response); err != nil {
		return nil, err
	}
	defer recoverMalformed(&err)
	p, err = protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformedResponse, libError(err))
	}
	return p, nil
}

// recoverMalformed turns a panic of the library's parsers (CBOR and
// binary layouts the client controls) into ErrMalformedResponse: our
// fuzz targets found none, and this keeps a future one from taking the
// process down on a request.
func recoverMalformed(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: parser panic: %v", ErrMalformedResponse, r)
	}
}

func (m *Manager) checkSize(response []byte) error {
	if len(response) > m.cfg.MaxResponseBytes {
		return ErrResponseTooLarge
	}
	if len(bytes.TrimSpace(response)) == 0 {
		return fmt.Errorf("%w: empty", ErrMalformedResponse)
	}
	return nil
}

// libError is the text of a go-webauthn error with its details, for the
// error chain (never for the client: problem.Of answers our code).
func libError(err error) string {
	var pe *protocol.Error
	if errors.As(err, &pe) {
		return strings.TrimSpace(pe.Type + ": " + pe.Details + " " + pe.DevInfo)
	}
	return err.Error()
}

func checkNickname(s string) error {
	if len(s) > MaxNicknameLen || !utf8.ValidString(s) {
		return ErrInvalidNickname
	}
	for _, r := range s {
		// Format characters (bidi overrides, zero-width joiners) make a
		// name read as another on the security page: "Phone" and
		// "Phone\u200b" look alike, and a right-to-left override can turn
		// a name around.
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return ErrInvalidNickname
		}
	}
	return nil
}

// loggedIn records a login's outcome.
func (m *Manager) loggedIn(ctx context.Context, subject, ceremony string, res Result, err error) {
	if err != nil {
		m.failed(ctx, subject, ceremony, err)
		return
	}
	m.rec.Record(ctx, audit.PasskeyPassed, slog.String(audit.KeySubject, subject),
		slog.String(audit.KeyCredential, res.Credential.ID), slog.String(audit.KeyCeremony, ceremony))
}

// failed records a refused ceremony with its error code as the reason.
func (m *Manager) failed(ctx context.Context, subject, ceremony string, err error) {
	if errors.Is(err, store.ErrUnavailable) {
		m.rec.Record(ctx, audit.StoreUnavailable, slog.String(audit.KeyOp, "passkey"))
		return
	}
	m.rec.Record(ctx, audit.PasskeyFailed, slog.String(audit.KeySubject, subject),
		slog.String(audit.KeyCeremony, ceremony), slog.String(audit.KeyReason, problem.Of(err).Code))
}
