package mfa

import (
	"context"
	"fmt"
)

// Second-factor kinds, as auth names them (auth.FactorTOTP,
// auth.FactorRecovery).
const (
	KindTOTP     = "totp"
	KindRecovery = "recovery"
)

// SecondFactorRequired reports whether subject's login needs a second
// step: whether the account has a confirmed TOTP key. Recovery codes
// alone (left after RemoveTOTP) and an unconfirmed enrolment do not make
// a login two-step. With VerifySecondFactor it implements
// auth.SecondFactor (mfa does not import auth: the method set is of
// plain types).
func (m *Manager) SecondFactorRequired(ctx context.Context, subject string) (bool, error) {
	s, err := m.Enrolled(ctx, subject)
	if err != nil {
		return false, err
	}
	return s.TOTP, nil
}

// VerifySecondFactor checks a code of the kind: KindTOTP is Verify,
// KindRecovery is UseRecoveryCode, each counted against the account's
// attempt limit; any other kind is an error and checks nothing.
func (m *Manager) VerifySecondFactor(ctx context.Context, subject, kind, code string) error {
	switch kind {
	case KindTOTP:
		return m.Verify(ctx, subject, code)
	case KindRecovery:
		return m.UseRecoveryCode(ctx, subject, code)
	}
	return fmt.Errorf("mfa: unknown second-factor kind %q", kind)
}
