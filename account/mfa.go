package account

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/mfa"
	"github.com/gatehouse-go/gatehouse/passkey"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
)

// Second factors (Config.MFA): the flows below are shared by the JSON API
// and the security page. Enrolling, removing and regenerating ask for the
// current password (proveOwner), as a password change does: a session
// left open must not let anyone add a factor of theirs to the account,
// take the owner's away, or read a fresh set of recovery codes. Confirming
// an enrolment needs no password (the enrolment already did), only a code
// of the new key, counted against the account's second-factor attempt
// limit and the client's limit.MFA rate.

// mfaStatus is what second factors the account has.
type mfaStatus struct {
	TOTP          bool `json:"totp"`
	TOTPPending   bool `json:"totp_pending"`
	RecoveryCodes int  `json:"recovery_codes"`
	// Passkeys counts the account's passkeys (Config.Passkeys; 0
	// without).
	Passkeys int `json:"passkeys"`
}

// needMFA answers 501 not_supported when the app offers no second factor.
func (a *Account) needMFA() error {
	if a.cfg.MFA == nil {
		return fmt.Errorf("%w: Config.MFA is not set", errNotHere)
	}
	return nil
}

func (a *Account) mfaStatus(ctx context.Context, subject string) (mfaStatus, error) {
	if err := a.needMFA(); err != nil {
		return mfaStatus{}, err
	}
	st, err := a.cfg.MFA.Enrolled(ctx, subject)
	out := mfaStatus{TOTP: st.TOTP, TOTPPending: st.Pending && !st.TOTP, RecoveryCodes: st.RecoveryCodes}
	if err == nil && a.cfg.Passkeys != nil {
		var list []passkey.Credential
		list, err = a.cfg.Passkeys.List(ctx, subject)
		out.Passkeys = len(list)
	}
	return out, err
}

// enrollTOTP starts a TOTP enrolment after the password. Authenticator
// apps show the key under the account's address (or username).
func (a *Account) enrollTOTP(ctx context.Context, client netip.Prefix, r reqInfo, s session, pw, code string) (mfa.Enrollment, error) {
	if err := a.needMFA(); err != nil {
		return mfa.Enrollment{}, err
	}
	if err := a.proveOwner(ctx, client, r, s.user, pw, "password"); err != nil {
		return mfa.Enrollment{}, err
	}
	// An app already there is already_enrolled, whatever the session.
	if st, err := a.cfg.MFA.Enrolled(ctx, s.user.Subject); err != nil || st.TOTP {
		if err == nil {
			err = mfa.ErrAlreadyEnrolled
		}
		return mfa.Enrollment{}, err
	}
	if err := a.proveFactorIfAny(ctx, s, code); err != nil {
		return mfa.Enrollment{}, err
	}
	name := addressOf(s.user)
	if name == "" {
		name = s.user.Username
	}
	if name == "" {
		name = s.user.Subject
	}
	return a.cfg.MFA.Enroll(ctx, s.user.Subject, name)
}

// confirmTOTP completes the enrolment with a first code of the new key.
// When the account has no recovery codes yet, it makes a set and returns
// it (shown once): a user whose phone is lost must have a way in that
// does not need it. An account that kept its codes (a TOTP removed and
// enrolled again) keeps them, since its owner saved them before.
func (a *Account) confirmTOTP(ctx context.Context, client netip.Prefix, s session, code string) ([]string, error) {
	if err := a.needMFA(); err != nil {
		return nil, err
	}
	if code == "" {
		return nil, &auth.FieldError{Field: "code", Reason: "missing"}
	}
	if err := a.allowAccount(ctx, limit.MFA, client, s.user.Subject); err != nil {
		return nil, err
	}
	before, err := a.cfg.MFA.Enrolled(ctx, s.user.Subject)
	if err != nil {
		return nil, err
	}
	if err := a.cfg.MFA.ConfirmEnroll(ctx, s.user.Subject, code); err != nil {
		return nil, err
	}
	if before.RecoveryCodes > 0 {
		return nil, nil
	}
	// Should this fail, the TOTP stands without codes: the user makes a
	// set on the security page (POST /mfa/recovery-codes).
	return a.cfg.MFA.RecoveryCodes(ctx, s.user.Subject)
}

// removeTOTP removes the TOTP key after the password, always: a factor
// is never taken away on a session's say-so.
func (a *Account) removeTOTP(ctx context.Context, client netip.Prefix, r reqInfo, s session, pw, code string) error {
	if err := a.needMFA(); err != nil {
		return err
	}
	if err := a.proveOwner(ctx, client, r, s.user, pw, "password"); err != nil {
		return err
	}
	st, err := a.cfg.MFA.Enrolled(ctx, s.user.Subject)
	switch {
	case err != nil:
		return err
	case !st.TOTP && !st.Pending:
		return mfa.ErrNotEnrolled
	}
	if st.TOTP {
		if err := a.proveFactor(ctx, s, code); err != nil {
			return err
		}
	}
	// The browsers trusted to skip the second factor were vouched for by
	// the factor going away (a lost or leaked phone, often): their trust
	// ends first, so that a factor enrolled later is asked for. Should the
	// removal then fail, the trust is gone all the same: the safe side.
	if _, err := a.cfg.Tokens.RevokeAll(ctx, s.user.Subject, store.Filter{Kind: store.KindTrust}); err != nil {
		return err
	}
	return a.cfg.MFA.RemoveTOTP(ctx, s.user.Subject)
}

// regenerateRecoveryCodes makes a new set of recovery codes after the
// password; the old set stops working at once. An account without a
// second factor gets none (409 not_enrolled): codes alone open nothing.
// A passkey is one (with Config.Passkeys, mfa.Config.Passkeys): an
// account whose only second factor is a passkey needs codes for the day
// its device is lost as much as one with an app.
func (a *Account) regenerateRecoveryCodes(ctx context.Context, client netip.Prefix, r reqInfo, s session, pw, code string) ([]string, error) {
	if err := a.needMFA(); err != nil {
		return nil, err
	}
	if err := a.proveOwner(ctx, client, r, s.user, pw, "password"); err != nil {
		return nil, err
	}
	st, err := a.cfg.MFA.Enrolled(ctx, s.user.Subject)
	switch {
	case err != nil:
		return nil, err
	case !st.Factors():
		return nil, mfa.ErrNotEnrolled
	}
	if err := a.proveFactor(ctx, s, code); err != nil {
		return nil, err
	}
	return a.cfg.MFA.RecoveryCodes(ctx, s.user.Subject)
}

// errFactorRequired: a session that did not pass a second factor asked
// to take one away, or to replace the recovery codes, without a code of
// it (401 insufficient_user_authentication, field "code").
var errFactorRequired = &problem.Error{Status: http.StatusUnauthorized, Code: "insufficient_user_authentication", Field: "code",
	Message: "enter a code of your authenticator app, or a recovery code"}

// proveFactorIfAny is proveFactor when the account has a second factor
// (with Config.MFA): adding another (an app, a passkey) from a session
// that did not pass the one it has would give whoever holds the password
// a way in of their own around it.
func (a *Account) proveFactorIfAny(ctx context.Context, s session, code string) error {
	if a.cfg.MFA == nil || s.p.Assurance >= auth.AssuranceMultiFactor {
		return nil
	}
	st, err := a.cfg.MFA.Enrolled(ctx, s.user.Subject)
	if err != nil || !st.Factors() {
		return err
	}
	return a.proveFactor(ctx, s, code)
}

// proveFactor asks a session that did not itself pass a second factor (a
// password's, one from before the factor was enrolled, a trusted
// browser's) for a code of the account's factor, besides the password,
// before the factor is taken away or its recovery codes replaced: the
// password is all a phished session has, and the factor is what stands
// between it and the account. A session at assurance level 2 passed one
// at its login. The code counts against the factor's attempt limit.
func (a *Account) proveFactor(ctx context.Context, s session, code string) error {
	if s.p.Assurance >= auth.AssuranceMultiFactor {
		return nil
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return errFactorRequired
	}
	// Digits (spaced or not) are a TOTP code; anything else is taken for
	// a recovery code, whose parser says whether it is one.
	kind := mfa.KindTOTP
	if strings.ContainsFunc(code, func(r rune) bool { return (r < '0' || r > '9') && r != ' ' }) {
		kind = mfa.KindRecovery
	}
	return a.cfg.MFA.VerifySecondFactor(ctx, s.user.Subject, kind, code)
}

// The API's routes of second factors.

func (a *Account) apiMFAStatus(w http.ResponseWriter, r *http.Request, s session) {
	st, err := a.mfaStatus(r.Context(), s.user.Subject)
	answer(w, err, http.StatusOK, st)
}

// passwordBody reads {"password"} (JSON or form). A DELETE may come
// without a body at all: that is an empty one, so that it is answered
// 403 password_required rather than 415.
func (a *Account) passwordBody(w http.ResponseWriter, r *http.Request) (string, error) {
	pw, _, err := a.passwordCodeBody(w, r)
	return pw, err
}

// passwordCodeBody reads {"password", "code"}: a factor's code where a
// session below level 2 must give one (proveFactor).
func (a *Account) passwordCodeBody(w http.ResponseWriter, r *http.Request) (pw, code string, err error) {
	var in struct{ Password, Code string }
	if r.ContentLength == 0 && r.Header.Get("Content-Type") == "" {
		return "", "", nil
	}
	err = a.read(w, r, &in, func(v url.Values) { in.Password, in.Code = v.Get("password"), v.Get("code") })
	return in.Password, in.Code, err
}

// enrollmentJSON is a started TOTP enrolment: the secret for typing in,
// the otpauth URI, and the URI as a QR code PNG in standard base64.
type enrollmentJSON struct {
	Secret string `json:"secret"`
	URI    string `json:"uri"`
	QRPNG  string `json:"qr_png"`
}

func (a *Account) apiEnrollTOTP(w http.ResponseWriter, r *http.Request, s session) {
	pw, code, err := a.passwordCodeBody(w, r)
	if err != nil {
		answer(w, err, 0, nil)
		return
	}
	var out enrollmentJSON
	a.withClient(w, r, func(c netip.Prefix) error {
		en, err := a.enrollTOTP(r.Context(), c, info(r), s, pw, code)
		out = enrollmentJSON{Secret: en.Secret, URI: en.URI, QRPNG: base64.StdEncoding.EncodeToString(en.QRPNG)}
		return err
	}, http.StatusOK, &out)
}

func (a *Account) apiConfirmTOTP(w http.ResponseWriter, r *http.Request, s session) {
	var in struct{ Code string }
	if err := a.read(w, r, &in, func(v url.Values) { in.Code = v.Get("code") }); err != nil {
		answer(w, err, 0, nil)
		return
	}
	var out struct {
		Status        string   `json:"status"`
		RecoveryCodes []string `json:"recovery_codes,omitempty"`
	}
	a.withClient(w, r, func(c netip.Prefix) error {
		var err error
		out.Status = "enrolled"
		out.RecoveryCodes, err = a.confirmTOTP(r.Context(), c, s, in.Code)
		return err
	}, http.StatusOK, &out)
}

func (a *Account) apiRemoveTOTP(w http.ResponseWriter, r *http.Request, s session) {
	pw, code, err := a.passwordCodeBody(w, r)
	if err != nil {
		answer(w, err, 0, nil)
		return
	}
	a.withClient(w, r, func(c netip.Prefix) error { return a.removeTOTP(r.Context(), c, info(r), s, pw, code) },
		http.StatusNoContent, nil)
}

func (a *Account) apiRecoveryCodes(w http.ResponseWriter, r *http.Request, s session) {
	pw, code, err := a.passwordCodeBody(w, r)
	if err != nil {
		answer(w, err, 0, nil)
		return
	}
	var out struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	a.withClient(w, r, func(c netip.Prefix) error {
		var err error
		out.RecoveryCodes, err = a.regenerateRecoveryCodes(r.Context(), c, info(r), s, pw, code)
		return err
	}, http.StatusOK, &out)
}

// apiSecondStep is POST /login/second: auth's SecondStepHandler, which
// takes one unit of the client's limit.MFA rate per request and leaves
// the account's attempt limit to the factor; 501 when auth has no
// SecondFactor (no login can have asked for a second step).
func (a *Account) apiSecondStep(w http.ResponseWriter, r *http.Request) {
	if a.second == nil {
		problem.Write(w, fmt.Errorf("%w: auth.Config.SecondFactor is not set", errNotHere))
		return
	}
	a.second.ServeHTTP(w, r)
}
