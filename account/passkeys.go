package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"time"

	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/passkey"
	"github.com/gatehouse-go/gatehouse/store"
)

// Passkeys (Config.Passkeys): the flows below are shared by the JSON API
// and the pages. Adding a passkey asks for the current password, as
// enrolling a TOTP key does: a session left open must not let anyone add
// a key of theirs to the account. Removing one always asks for it too, so
// that no factor is taken away on a session's say-so. Renaming changes
// nothing that guards the account and needs the session only.
//
// A passwordless login's options name no account, so they tell nothing
// of who has one; but each call keeps a challenge in the store, so they
// are rate limited per client (limit.Login) before anything is written.

// needPasskeys answers 501 not_supported when the app offers no passkeys.
func (a *Account) needPasskeys() error {
	if a.cfg.Passkeys == nil {
		return fmt.Errorf("%w: Config.Passkeys is not set", errNotHere)
	}
	return nil
}

// checkPasskeys is New's check of Config.Passkeys against auth and mfa:
// a passkey the pages let users add must open a passwordless login, and
// with Config.MFA it must count as the second factor it looks like.
func checkPasskeys(cfg Config) error {
	if cfg.Passkeys == nil {
		return nil
	}
	pl := cfg.Auth.Passwordless()
	if pl == nil {
		return errors.New("account: Config.Passkeys needs auth.Config.Passwordless (the same passkey.Manager): " +
			"without it, the passkey login routes have nothing to verify a passkey with")
	}
	if m, ok := pl.(*passkey.Manager); ok && m != cfg.Passkeys {
		return errors.New("account: auth.Config.Passwordless is another passkey.Manager than Config.Passkeys: " +
			"passkeys added here would not open a passwordless login")
	}
	if cfg.MFA != nil {
		if pk, ok := cfg.MFA.Passkeys().(*passkey.Manager); !ok || pk != cfg.Passkeys {
			return errors.New("account: with Config.MFA, Config.Passkeys needs mfa.Config.Passkeys set to the same " +
				"passkey.Manager: else a passkey is no second factor, and the second step could not take one")
		}
	}
	return nil
}

// passkeyName is what an authenticator shows the passkey under: the
// account's address, else its username, else its subject.
func passkeyName(u auth.User) string {
	if n := addressOf(u); n != "" {
		return n
	}
	if u.Username != "" {
		return u.Username
	}
	return u.Subject
}

// passkeyOptions starts adding a passkey after the password: the
// creation options for the browser.
func (a *Account) passkeyOptions(ctx context.Context, client netip.Prefix, r reqInfo, s session, pw, code string) (json.RawMessage, error) {
	if err := a.needPasskeys(); err != nil {
		return nil, err
	}
	if err := a.proveOwner(ctx, client, r, s.user, pw, "password"); err != nil {
		return nil, err
	}
	if err := a.proveFactorIfAny(ctx, s, code); err != nil {
		return nil, err
	}
	name := passkeyName(s.user)
	return a.cfg.Passkeys.BeginRegistration(ctx, s.user.Subject, name, name)
}

// addPasskey finishes adding a passkey: the response must answer a
// challenge issued to this account's passkeyOptions, which the password
// opened, so it needs no password of its own.
func (a *Account) addPasskey(ctx context.Context, s session, response []byte, nickname string) (passkey.Credential, error) {
	if err := a.needPasskeys(); err != nil {
		return passkey.Credential{}, err
	}
	if len(response) == 0 {
		return passkey.Credential{}, &auth.FieldError{Field: "response", Reason: "missing"}
	}
	return a.cfg.Passkeys.FinishRegistration(ctx, s.user.Subject, response, nickname)
}

func (a *Account) renamePasskey(ctx context.Context, s session, id, nickname string) error {
	if err := a.needPasskeys(); err != nil {
		return err
	}
	return a.cfg.Passkeys.Rename(ctx, s.user.Subject, id, nickname)
}

// removePasskey removes one after the password, always, and a code of
// the account's factor from a session that did not pass one. The
// browsers trusted to skip the second factor may have been vouched for by
// this passkey: their trust ends first, as when an app is removed.
func (a *Account) removePasskey(ctx context.Context, client netip.Prefix, r reqInfo, s session, id, pw, code string) error {
	if err := a.needPasskeys(); err != nil {
		return err
	}
	if err := a.proveOwner(ctx, client, r, s.user, pw, "password"); err != nil {
		return err
	}
	if err := a.proveFactorIfAny(ctx, s, code); err != nil {
		return err
	}
	if _, err := a.cfg.Tokens.RevokeAll(ctx, s.user.Subject, store.Filter{Kind: store.KindTrust}); err != nil {
		return err
	}
	return a.cfg.Passkeys.Remove(ctx, s.user.Subject, id)
}

// passwordlessOptions are a passwordless login's request options: one
// unit of the client's limit.Login rate first, so that a stranger can
// neither fill the store with challenges nor get more tries at passkey
// logins than at passwords.
func (a *Account) passwordlessOptions(ctx context.Context, client netip.Prefix) (json.RawMessage, error) {
	if err := a.needPasskeys(); err != nil {
		return nil, err
	}
	if err := a.allowClient(ctx, limit.Login, client); err != nil {
		return nil, err
	}
	return a.cfg.Passkeys.BeginPasswordless(ctx)
}

// secondOptions are the request options of a second step by passkey for
// the pending login's account. PendingSubject takes the client's
// limit.MFA rate first. An account without a passkey is answered 404
// passkey_not_found: the pending token already proves the password, so
// this tells its holder nothing new.
func (a *Account) secondOptions(ctx context.Context, client netip.Prefix, pending string) (json.RawMessage, error) {
	if err := a.needPasskeys(); err != nil {
		return nil, err
	}
	if a.second == nil || a.cfg.MFA == nil {
		return nil, fmt.Errorf("%w: Config.MFA is not set", errNotHere)
	}
	subject, err := a.cfg.Auth.PendingSubject(ctx, pending, client)
	if err != nil {
		return nil, err
	}
	return a.cfg.Passkeys.BeginLogin(ctx, subject)
}

// passkeyItem is a passkey as the API lists it.
type passkeyItem struct {
	ID             string     `json:"id"`
	Nickname       string     `json:"nickname"`
	Created        time.Time  `json:"created"`
	LastUsed       *time.Time `json:"last_used,omitempty"`
	BackupEligible bool       `json:"backup_eligible"`
	BackedUp       bool       `json:"backed_up"`
}

func passkeyItemOf(c passkey.Credential) passkeyItem {
	it := passkeyItem{ID: c.ID, Nickname: c.Nickname, Created: c.Created.UTC(), BackupEligible: c.BackupEligible, BackedUp: c.BackedUp}
	if !c.LastUsed.IsZero() {
		lu := c.LastUsed.UTC()
		it.LastUsed = &lu
	}
	return it
}

// The API's routes of passkeys.

func (a *Account) apiPasskeys(w http.ResponseWriter, r *http.Request, s session) {
	if err := a.needPasskeys(); err != nil {
		answer(w, err, 0, nil)
		return
	}
	list, err := a.cfg.Passkeys.List(r.Context(), s.user.Subject)
	out := make([]passkeyItem, 0, len(list))
	for _, c := range list {
		out = append(out, passkeyItemOf(c))
	}
	answer(w, err, http.StatusOK, map[string]any{"passkeys": out})
}

// apiPasskeyPost is POST /passkeys/{id}: the options route, or 404.
func (a *Account) apiPasskeyPost(w http.ResponseWriter, r *http.Request, s session) {
	if r.PathValue("id") != "options" {
		answer(w, errNotFound, 0, nil)
		return
	}
	a.apiPasskeyOptions(w, r, s)
}

func (a *Account) apiPasskeyOptions(w http.ResponseWriter, r *http.Request, s session) {
	pw, code, err := a.passwordCodeBody(w, r)
	if err != nil {
		answer(w, err, 0, nil)
		return
	}
	var out json.RawMessage
	a.withClient(w, r, func(c netip.Prefix) error {
		var err error
		out, err = a.passkeyOptions(r.Context(), c, info(r), s, pw, code)
		return err
	}, http.StatusOK, &out)
}

// responseBody is a body with a passkey's response: JSON whose
// "response" is the browser's PublicKeyCredential as an object (or that
// object's JSON in a string), or a form whose "response" is the string.
type responseBody struct {
	Response json.RawMessage `json:"response"`
	Nickname string          `json:"nickname"`
	Pending  string          `json:"pending"`
}

func (a *Account) readResponse(w http.ResponseWriter, r *http.Request) (responseBody, error) {
	var in responseBody
	err := a.read(w, r, &in, func(v url.Values) {
		in.Nickname, in.Pending = v.Get("nickname"), v.Get("pending")
		if s := v.Get("response"); s != "" {
			in.Response = json.RawMessage(s)
		}
	})
	if len(in.Response) > 0 && in.Response[0] == '"' {
		var s string
		if json.Unmarshal(in.Response, &s) == nil {
			in.Response = json.RawMessage(s)
		}
	}
	if string(in.Response) == "null" {
		in.Response = nil
	}
	return in, err
}

func (a *Account) apiAddPasskey(w http.ResponseWriter, r *http.Request, s session) {
	in, err := a.readResponse(w, r)
	if err != nil {
		answer(w, err, 0, nil)
		return
	}
	c, err := a.addPasskey(r.Context(), s, in.Response, in.Nickname)
	answer(w, err, http.StatusCreated, passkeyItemOf(c))
}

func (a *Account) apiRenamePasskey(w http.ResponseWriter, r *http.Request, s session) {
	var in struct{ Nickname string }
	if err := a.read(w, r, &in, func(v url.Values) { in.Nickname = v.Get("nickname") }); err != nil {
		answer(w, err, 0, nil)
		return
	}
	answer(w, a.renamePasskey(r.Context(), s, r.PathValue("id"), in.Nickname), http.StatusNoContent, nil)
}

func (a *Account) apiRemovePasskey(w http.ResponseWriter, r *http.Request, s session) {
	pw, code, err := a.passwordCodeBody(w, r)
	if err != nil {
		answer(w, err, 0, nil)
		return
	}
	a.withClient(w, r, func(c netip.Prefix) error {
		return a.removePasskey(r.Context(), c, info(r), s, r.PathValue("id"), pw, code)
	}, http.StatusNoContent, nil)
}

// apiPasswordlessOptions is POST /login/passkey/options. Its body, if
// any, is not read: the options are the same for everyone.
func (a *Account) apiPasswordlessOptions(w http.ResponseWriter, r *http.Request) {
	var out json.RawMessage
	a.withClient(w, r, func(c netip.Prefix) error {
		var err error
		out, err = a.passwordlessOptions(r.Context(), c)
		return err
	}, http.StatusOK, &out)
}

// apiPasswordless is POST /login/passkey: auth's PasswordlessHandler.
func (a *Account) apiPasswordless(w http.ResponseWriter, r *http.Request) {
	if a.passwordless == nil {
		answer(w, a.needPasskeys(), 0, nil)
		return
	}
	a.passwordless.ServeHTTP(w, r)
}

// apiSecondOptions is POST /login/second/options {"pending"}.
func (a *Account) apiSecondOptions(w http.ResponseWriter, r *http.Request) {
	var in struct{ Pending string }
	if err := a.read(w, r, &in, func(v url.Values) { in.Pending = v.Get("pending") }); err != nil {
		answer(w, err, 0, nil)
		return
	}
	var out json.RawMessage
	a.withClient(w, r, func(c netip.Prefix) error {
		var err error
		out, err = a.secondOptions(r.Context(), c, in.Pending)
		return err
	}, http.StatusOK, &out)
}
