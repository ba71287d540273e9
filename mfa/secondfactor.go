package mfa

import (
	"context"
	"fmt"
	"net/http"

	"github.com/gatehouse-go/gatehouse/problem"
)

// Second-factor kinds, as auth names them (auth.FactorTOTP,
// auth.FactorRecovery).
const (
	KindTOTP     = "totp"
	KindRecovery = "recovery"
	// KindPasskey is a passkey's assertion (the browser's JSON response to
	// a challenge of the subject's), with Config.Passkeys.
	KindPasskey = "passkey"
)

// Passkeys is what the Manager needs of passkeys to take them as a
// second factor (Config.Passkeys); *passkey.Manager implements it with
// plain types, so neither package imports the other.
type Passkeys interface {
	// HasPasskeys reports whether subject has a passkey.
	HasPasskeys(ctx context.Context, subject string) (bool, error)
	// VerifyPasskey checks a passkey assertion of subject's against a
	// challenge issued for subject (consuming it): nil when it passed,
	// else an error with its own Problem.
	VerifyPasskey(ctx context.Context, subject, response string) error
}

// Passkeys is Config.Passkeys, nil without one: the account package
// checks that the passkeys it lets users add are a second factor here.
func (m *Manager) Passkeys() Passkeys { return m.cfg.Passkeys }

// SecondFactorRequired reports whether subject's login needs a second
// step: whether the account has a confirmed TOTP key, or a passkey
// (with Config.Passkeys). Recovery codes
// alone (left after RemoveTOTP) and an unconfirmed enrolment do not make
// a login two-step. With VerifySecondFactor it implements
// auth.SecondFactor (mfa does not import auth: the method set is of
// plain types).
func (m *Manager) SecondFactorRequired(ctx context.Context, subject string) (bool, error) {
	s, err := m.Enrolled(ctx, subject)
	if err != nil {
		return false, err
	}
	return s.Factors(), nil
}

// VerifySecondFactor checks a code of the kind: KindTOTP is Verify,
// KindRecovery is UseRecoveryCode, KindPasskey (with Config.Passkeys) is
// Config.Passkeys.VerifyPasskey, each counted against the account's
// attempt limit; any other kind is an error and checks nothing.
func (m *Manager) VerifySecondFactor(ctx context.Context, subject, kind, code string) error {
	switch kind {
	case KindTOTP:
		return m.Verify(ctx, subject, code)
	case KindRecovery:
		return m.UseRecoveryCode(ctx, subject, code)
	case KindPasskey:
		if m.cfg.Passkeys != nil {
			return m.verifyPasskey(ctx, subject, code)
		}
	}
	return fmt.Errorf("%w %q", errUnknownKind, kind)
}

// errUnknownKind: a second factor of a kind this Manager does not take
// (KindPasskey without Config.Passkeys, or any other): the client's
// input, 400 invalid_field "kind", never a 500. Nothing is counted.
var errUnknownKind = problem.New("mfa: unknown second-factor kind", problem.Error{
	Status: http.StatusBadRequest, Code: "invalid_field", Field: "kind",
	Message: "this app takes no second factor of this kind"})

// verifyPasskey checks a passkey assertion as the second factor: counted
// against the account's attempt limit first, like a code, so a pending
// login buys no more tries with passkeys than with TOTP, and a pass
// clears the counts.
func (m *Manager) verifyPasskey(ctx context.Context, subject, response string) (err error) {
	defer func() { m.checked(ctx, subject, KindPasskey, err) }()
	if err := m.attempt(ctx, subject); err != nil {
		return err
	}
	if err := m.cfg.Passkeys.VerifyPasskey(ctx, subject, response); err != nil {
		return err
	}
	return m.clearAttempts(ctx, subject)
}
