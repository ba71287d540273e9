package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"net/http"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// Trusted browsers: "don't ask for the second factor on this device for
// 30 days". After a login passed its second factor, TrustDevice issues a
// trust token (store.KindTrust, "ght_"): a chain of its own that ends
// tokens.Config.TrustTTL (30 days) after that login, however often it is
// used. A later password login presenting it (Credentials.TrustedDevice;
// the handlers keep it in TrustCookie) skips the second step, and the
// token is rotated: the login hands back its successor and the one
// presented is spent. A replay of a spent one (a copied cookie used after
// the browser used its own, or the other way round) revokes the chain and
// the login asks for the second factor, so a stolen cookie is good for at
// most one login, and only with the password. It is never a static
// cookie: no value is good twice.
//
// Trust opens nothing by itself: the password is still checked, with its
// lockout. The session it yields is a password's (AssurancePassword, as
// is a device chain it starts): no second factor passed in this login,
// so a step-up route (middleware.RequireAssurance) still asks for one, and
// TrustDevice refuses it, so a copied trust cookie cannot mint a chain of
// its own.
// LogoutEverywhere, a password reset and Deactivate end every trust chain
// with the rest of the subject's tokens; ForgetTrusted ends one.
const (
	// TrustCookie is the name of the trust cookie: Secure, HttpOnly,
	// SameSite=Strict, for the whole site (the __Host- prefix), until the
	// chain ends.
	TrustCookie = "__Host-gatehouse-trust"
	// TrustWindow is how soon after its second factor a session may ask
	// for trust: TrustDevice refuses an older one, so a session stolen
	// later cannot mint trust for another browser.
	TrustWindow = 5 * time.Minute

	trustDevicePrefix = "trust-"
)

// ErrTrustNeedsSecondFactor: TrustDevice was given a session that did not
// pass a second factor within TrustWindow (401
// insufficient_user_authentication, as a step-up route answers).
var ErrTrustNeedsSecondFactor = problem.New("auth: trust needs a session that just passed a second factor", problem.Error{
	Status: http.StatusUnauthorized, Code: "insufficient_user_authentication",
	Message: "trusting this device needs a login that just passed its second factor"})

// Trust is a browser's trust token.
type Trust struct {
	// Token is the trust token (only copy): keep it in the browser
	// (SetTrustCookie) and present it as Credentials.TrustedDevice.
	Token string
	// ExpiresAt is when it expires: the chain's end.
	ExpiresAt time.Time
}

// TrustDevice issues a trust token for the browser of session (a session
// token from CompleteLogin or CompleteLoginDevice): its next password
// logins skip the second factor until the chain ends. The session must
// have been issued by a second step (assurance level 2 or more) within
// TrustWindow, else ErrTrustNeedsSecondFactor; an unknown or expired
// session is a tokens error (401 invalid_token); a store failure wraps
// store.ErrUnavailable.
func (a *Authenticator) TrustDevice(ctx context.Context, session string) (t Trust, err error) {
	rec, err := a.tokens.Validate(ctx, store.KindSession, session)
	// Counted from the session's issue, the instant its second factor
	// passed (the record's AuthTime is the password's, which may be a
	// PendingTTL earlier).
	if err == nil && (rec.Assurance < AssuranceMultiFactor || a.now().Sub(rec.IssuedAt) > TrustWindow) {
		err = ErrTrustNeedsSecondFactor
	}
	var iss tokens.Issued
	if err == nil {
		var b [rememberDeviceRand]byte
		rand.Read(b[:])
		iss, err = a.tokens.Issue(ctx, store.KindTrust, tokens.Claims{Subject: rec.Subject,
			Device: trustDevicePrefix + rememberEncoding.EncodeToString(b[:]), AuthTime: rec.AuthTime, Assurance: rec.Assurance})
	}
	a.record(ctx, audit.TokenIssued, audit.TokenRejected, "issue", err, kindAttr(store.KindTrust), subjectAttr(rec.Subject))
	if err != nil {
		return Trust{}, err
	}
	return Trust{Token: iss.Token, ExpiresAt: iss.Record.ExpiresAt}, nil
}

// ForgetTrusted ends the trust chain of token, as on logout from a shared
// computer. An unknown or malformed token is no error: it trusts nothing.
func (a *Authenticator) ForgetTrusted(ctx context.Context, token string) error {
	rec, err := a.tokens.Validate(ctx, store.KindTrust, token)
	if err != nil {
		if errors.Is(err, store.ErrUnavailable) {
			return err
		}
		return nil
	}
	_, err = a.tokens.RevokeAll(ctx, rec.Subject, store.Filter{Kind: store.KindTrust, Family: rec.Family})
	return err
}

// checkTrust reports whether token is a live trust token of subject's,
// to stand in for the login's second factor (spendTrust then rotates it).
// None given, malformed, another subject's: false, and the login asks for
// the second factor. An unknown one may be a spent one: rotating it finds
// the replay and revokes its chain, and it is false too. Only a store
// failure is an error: the login fails closed.
func (a *Authenticator) checkTrust(ctx context.Context, subject, token string) (bool, error) {
	if token == "" {
		return false, nil
	}
	// Checked before it is spent: another account's token, presented by
	// a browser two people share, stays good for its owner.
	rec, err := a.tokens.Validate(ctx, store.KindTrust, token)
	switch {
	case err == nil:
		return rec.Subject == subject, nil
	case errors.Is(err, store.ErrUnavailable):
		return false, err
	case !errors.Is(err, tokens.ErrInvalid):
		return false, nil // malformed, of another kind: nothing to use
	}
	_, err = a.tokens.RotateTrust(ctx, token)
	if errors.Is(err, tokens.ErrReused) {
		a.record(ctx, audit.TokenRotated, audit.TokenRejected, "rotate", err, kindAttr(store.KindTrust), subjectAttr(subject))
	}
	if errors.Is(err, store.ErrUnavailable) {
		return false, err
	}
	return false, nil
}

// SetTrustCookie keeps a browser's trust token in TrustCookie until it
// expires.
func (a *Authenticator) SetTrustCookie(w http.ResponseWriter, t Trust) {
	http.SetCookie(w, &http.Cookie{Name: TrustCookie, Value: t.Token, Path: "/",
		MaxAge: max(1, int(t.ExpiresAt.Sub(a.now())/time.Second)),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// TrustFromRequest returns the trust token of r's TrustCookie: "" when
// there is none, or two (a sibling subdomain can plant one), or a value
// that is not a trust token. It does no I/O.
func TrustFromRequest(r *http.Request) string {
	cs := r.CookiesNamed(TrustCookie)
	if len(cs) != 1 || tokens.KindOf(cs[0].Value) != store.KindTrust {
		return ""
	}
	return cs[0].Value
}
