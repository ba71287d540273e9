package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// Verification is a one-time email verification token handed out in two
// halves, for APIs whose clients send back an id and a value (seed 003's
// ValidationID and ValidationVal).
//
// Value is the secret: the 256 random bits of a verification token
// (tokens.Config.VerificationTTL, 24 hours by default). ID is public: it
// names the pending verification (it is the SHA-256 the store keeps the
// token under, with its routing tag) and is safe to log, while the store
// holds nothing from which Value can be recovered. [Authenticator.RedeemVerification]
// checks that Value hashes to ID, in constant time and before any I/O,
// then spends the token: of concurrent redemptions exactly one succeeds.
type Verification struct {
	ID        string // "vid_" + routing tag + "_" + 43 characters; public
	Value     string // 43 characters of unpadded base64url; a secret
	ExpiresAt time.Time
}

// Shape of a verification id and value. The token they stand for is
// tokenPrefix + tag + "_" + value, a plain gatehouse verification token.
const (
	verifyIDPrefix  = "vid_"
	verifyTokPrefix = "ghv_"
	verifyTagLen    = 4
	verifyHashLen   = 43 // base64.RawURLEncoding.EncodedLen(sha256.Size)
	verifyIDLen     = len(verifyIDPrefix) + verifyTagLen + 1 + verifyHashLen
	verifyValueLen  = tokens.Len - len(verifyTokPrefix) - verifyTagLen - 1
)

// IssueVerification issues a verification for subject and returns it in
// two halves. It does not send anything: the app delivers it (in an email,
// or, as seed 003 does, to a trusted back end that mails the user). The
// app then marks the address confirmed when RedeemVerification returns
// the subject.
//
// Each call issues a new verification; earlier ones stay valid until they
// are redeemed or expire. To end them, use tokens.Manager.RevokeAll with
// store.KindVerification (which also ends email confirmation links).
//
// Whether an unverified user may log in meanwhile is Config.AllowUnconfirmed:
// by default Login refuses them with ErrUnconfirmed; with it, Login
// succeeds and reports Session.Unconfirmed.
func (a *Authenticator) IssueVerification(ctx context.Context, subject string) (v Verification, err error) {
	defer func() {
		a.record(ctx, audit.TokenIssued, audit.TokenRejected, "issue", err, kindAttr(store.KindVerification), subjectAttr(subject))
	}()
	if subject == "" {
		return Verification{}, errors.New("auth: IssueVerification needs a subject")
	}
	iss, err := a.tokens.Issue(ctx, store.KindVerification, tokens.Claims{Subject: subject})
	if err != nil {
		return Verification{}, err
	}
	tok := iss.Token
	if len(tok) != tokens.Len || tok[:len(verifyTokPrefix)] != verifyTokPrefix {
		return Verification{}, errors.New("auth: unexpected verification token shape")
	}
	tag := tok[len(verifyTokPrefix) : len(verifyTokPrefix)+verifyTagLen]
	sum := sha256.Sum256([]byte(tok))
	return Verification{
		ID:        verifyIDPrefix + tag + "_" + base64.RawURLEncoding.EncodeToString(sum[:]),
		Value:     tok[len(tok)-verifyValueLen:],
		ExpiresAt: iss.Record.ExpiresAt,
	}, nil
}

// RedeemVerification spends a verification and returns the subject it
// verifies. An id or value that is empty is tokens.ErrMissing; one of the
// wrong shape is tokens.ErrMalformed, and a value that does not belong to
// the id is tokens.ErrInvalid, all without store I/O and without spending
// the verification. An unknown, expired or already redeemed one is
// tokens.ErrInvalid. A store failure wraps store.ErrUnavailable and leaves
// the verification unspent.
func (a *Authenticator) RedeemVerification(ctx context.Context, id, value string) (subject string, err error) {
	defer func() {
		a.record(ctx, audit.TokenRedeemed, audit.TokenRejected, "redeem", err, kindAttr(store.KindVerification), subjectAttr(subject))
	}()
	if id == "" || value == "" {
		return "", tokens.ErrMissing
	}
	if len(id) != verifyIDLen || id[:len(verifyIDPrefix)] != verifyIDPrefix ||
		id[len(verifyIDPrefix)+verifyTagLen] != '_' || len(value) != verifyValueLen {
		return "", tokens.ErrMalformed
	}
	want, err := base64.RawURLEncoding.Strict().DecodeString(id[len(id)-verifyHashLen:])
	if err != nil || len(want) != sha256.Size {
		return "", tokens.ErrMalformed
	}
	tag := id[len(verifyIDPrefix) : len(verifyIDPrefix)+verifyTagLen]
	if !tokens.ValidDerivedTag(tag) {
		return "", tokens.ErrMalformed
	}
	// The value is the secret of a token: 32 bytes of canonical base64url.
	if b, err := base64.RawURLEncoding.Strict().DecodeString(value); err != nil || len(b) != 32 {
		return "", tokens.ErrMalformed
	}
	tok := verifyTokPrefix + tag + "_" + value
	sum := sha256.Sum256([]byte(tok))
	if subtle.ConstantTimeCompare(sum[:], want) != 1 {
		return "", tokens.ErrInvalid
	}
	// Consume parses the token again (the tag and the value's alphabet)
	// and spends it atomically.
	rec, err := a.tokens.Consume(ctx, store.KindVerification, tok)
	if err != nil {
		return "", err
	}
	if err := ownVerification(rec); err != nil {
		return "", err
	}
	return rec.Subject, nil
}
