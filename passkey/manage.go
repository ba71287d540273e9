package passkey

import (
	"context"
	"encoding/base64"
	"log/slog"

	"github.com/gatehouse-go/gatehouse/audit"
)

// List returns subject's passkeys in the order they were registered.
func (m *Manager) List(ctx context.Context, subject string) ([]Credential, error) {
	l, err := m.load(ctx, subject)
	if err != nil {
		return nil, err
	}
	out := make([]Credential, len(l.rec.Creds))
	for i := range l.rec.Creds {
		out[i] = l.rec.Creds[i].public()
	}
	return out, nil
}

// Has reports whether subject has at least one passkey.
func (m *Manager) Has(ctx context.Context, subject string) (bool, error) {
	l, err := m.load(ctx, subject)
	if err != nil {
		return false, err
	}
	return len(l.rec.Creds) > 0, nil
}

// Rename sets the nickname of subject's passkey id (Credential.ID).
// [ErrNotFound] when the subject has no such passkey.
func (m *Manager) Rename(ctx context.Context, subject, id, nickname string) error {
	if err := checkNickname(nickname); err != nil {
		return err
	}
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) == 0 {
		return ErrNotFound
	}
	return m.update(ctx, subject, func(rec *record) error {
		i := rec.find(raw)
		if i < 0 {
			return ErrNotFound
		}
		rec.Creds[i].Nickname = nickname
		return nil
	})
}

// Remove deletes subject's passkey id (Credential.ID): it no longer
// passes a login. [ErrNotFound] when the subject has no such passkey. The
// caller asks for a recent authentication first, and should not let a
// user remove their last way in.
func (m *Manager) Remove(ctx context.Context, subject, id string) error {
	raw, err := base64.RawURLEncoding.DecodeString(id)
	if err != nil || len(raw) == 0 {
		return ErrNotFound
	}
	err = m.update(ctx, subject, func(rec *record) error {
		i := rec.find(raw)
		if i < 0 {
			return ErrNotFound
		}
		rec.Creds = append(rec.Creds[:i:i], rec.Creds[i+1:]...)
		return nil
	})
	if err == nil {
		m.rec.Record(ctx, audit.PasskeyRemoved, slog.String(audit.KeySubject, subject), slog.String(audit.KeyCredential, id))
	}
	return err
}

// HasPasskeys reports whether subject has a passkey: with VerifyPasskey,
// what mfa needs to offer a passkey as a second factor (plain types, so
// that neither package imports the other).
func (m *Manager) HasPasskeys(ctx context.Context, subject string) (bool, error) {
	return m.Has(ctx, subject)
}

// VerifyPasskey is FinishLogin for a second factor: response is the JSON
// the browser gave for BeginLogin's options.
func (m *Manager) VerifyPasskey(ctx context.Context, subject, response string) error {
	_, err := m.FinishLogin(ctx, subject, []byte(response))
	return err
}

// VerifyPasswordless is FinishPasswordless as auth needs it for a
// passwordless login (auth.Config.Passwordless): the subject whose
// passkey answered BeginPasswordless's challenge, and whether the
// authenticator verified its user (auth then records AAL2).
func (m *Manager) VerifyPasswordless(ctx context.Context, response []byte) (string, bool, error) {
	subject, res, err := m.FinishPasswordless(ctx, response)
	if err != nil {
		return "", false, err
	}
	return subject, res.UserVerified, nil
}
