package account

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/auth"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/middleware"
	"github.com/gatehouse-go/gatehouse/store"
	"golang.org/x/text/unicode/norm"
)

// The flows below are the account lifecycle, shared by the JSON API and
// the pages: each takes what the request said and returns an error whose
// problem (problem.Of) is the answer.

const maxUsername = 64

// reasonSameEmail is the FieldError reason of a change to the address the
// account has already.
const reasonSameEmail = "already the account's address"

// signup creates an account, or, when the address has one, mails its
// owner instead: the client's answer is the same either way (nil after
// at least SignupMinDuration past the hash), so signup tells no one which
// addresses have accounts. Of concurrent signups of one address, the
// Creator lets exactly one create it; the others mail the owner.
func (a *Account) signup(ctx context.Context, client netip.Prefix, email, pw, username string) error {
	if err := need(a.can.creator != nil, "account.Creator"); err != nil {
		return err
	}
	email, err := validEmail("email", email)
	if err != nil {
		return err
	}
	if err := validUsername(username); err != nil {
		return err
	}
	if err := a.allowClient(ctx, limit.Signup, client); err != nil {
		return err
	}
	// The policy and the hash run for every signup, taken or not: that is
	// most of its time, and the same for both.
	if err := a.cfg.Auth.CheckNewPassword(ctx, pw, email, username); err != nil {
		return err
	}
	hash, err := a.cfg.Auth.HashPassword(ctx, pw, client)
	if err != nil {
		return err
	}
	defer waitUntil(ctx, time.Now().Add(a.cfg.SignupMinDuration))

	existing, err := a.users.FindUser(ctx, email)
	switch {
	case err == nil:
		return a.tellOwner(ctx, client, existing, PurposeAccountExists)
	case !errors.Is(err, auth.ErrUnknownUser):
		return err
	}
	subject, err := a.can.creator.CreateUser(ctx, NewUser{Email: email, Username: username, PasswordHash: hash})
	if isTaken(err) {
		// Lost a race for the address, or the username is another's.
		if existing, ferr := a.users.FindUser(ctx, email); ferr == nil {
			return a.tellOwner(ctx, client, existing, PurposeAccountExists)
		}
		return a.mail(ctx, client, addressKey(email), auth.Message{Purpose: PurposeUsernameTaken, To: email})
	}
	if err != nil {
		return err
	}
	a.rec.Record(ctx, audit.AccountCreated, slog.String(audit.KeySubject, subject))
	if ok, err := a.mailAllowed(ctx, client, subject); !ok {
		return err
	}
	return a.sendToken(ctx, subject, bindConfirm, auth.PurposeConfirmEmail, email)
}

// tellOwner mails an account's owner a notice (no token).
func (a *Account) tellOwner(ctx context.Context, client netip.Prefix, u auth.User, p auth.Purpose) error {
	a.rec.Record(ctx, audit.SignupExisting, slog.String(audit.KeySubject, u.Subject))
	return a.mail(ctx, client, noticeKey(u.Subject), auth.Message{Purpose: p, To: addressOf(u), Subject: u.Subject})
}

// noticeKey is the mail budget's account key of the notices strangers
// set off for an account: apart from the budget of its owner's own
// requests (resend, email change), which their flood must not spend.
func noticeKey(subject string) string { return "notice:" + subject }

// sendToken mails email a link for the purpose: confirming it as the
// account's address (bindConfirm) or moving the account to it
// (bindChange). Its callers have taken the mail budget.
func (a *Account) sendToken(ctx context.Context, subject, bind string, p auth.Purpose, email string) error {
	text, iss, err := a.issueEmailToken(ctx, subject, bind, email)
	if err != nil {
		return err
	}
	return a.cfg.Mailer.Send(ctx, auth.Message{Purpose: p, To: email, Subject: subject, Token: text, ExpiresAt: iss.Record.ExpiresAt})
}

// mail sends a notice within the mail budget of account (a subject, or a
// key for an address without one); past it the notice is dropped
// silently: a flood of signups naming one address must not flood its
// owner's inbox, nor answer differently from a sent one.
func (a *Account) mail(ctx context.Context, client netip.Prefix, account string, m auth.Message) error {
	if ok, err := a.mailAllowed(ctx, client, account); !ok {
		return err
	}
	return a.cfg.Mailer.Send(ctx, m)
}

// mailAllowed takes one message from the budget of client and account;
// false with a nil error when it is spent.
func (a *Account) mailAllowed(ctx context.Context, client netip.Prefix, account string) (bool, error) {
	if a.limiter == nil {
		return true, nil
	}
	err := a.limiter.Allow(ctx, limit.Mail, client, account)
	if errors.Is(err, limit.ErrLimited) {
		return false, nil
	}
	return err == nil, err
}

func (a *Account) allowClient(ctx context.Context, class limit.Class, client netip.Prefix) error {
	if a.limiter == nil {
		return nil
	}
	return a.limiter.Allow(ctx, class, client, "")
}

// confirmEmail spends a confirmation link: it confirms the account's
// address, or moves the account to the new address it names (and tells
// the old one). Every kind of bad link is errBadLink.
func (a *Account) confirmEmail(ctx context.Context, client netip.Prefix, link string) (subject string, err error) {
	if err := need(a.can.emails != nil, "account.EmailSetter"); err != nil {
		return "", err
	}
	if err := a.allowClient(ctx, limit.Verify, client); err != nil {
		return "", err
	}
	tok, email, ok := splitLink(link)
	if !ok {
		return "", errBadLink
	}
	// The link's spelling is the client's: the table gets the address
	// as issued (the binding compares it normalised too).
	email = auth.NormalizeLogin(email)
	rec, err := a.cfg.Tokens.Consume(ctx, store.KindVerification, tok)
	switch {
	case errors.Is(err, store.ErrUnavailable):
		return "", err
	case err != nil:
		return "", errBadLink
	}
	u, err := a.users.FindSubject(ctx, rec.Subject)
	switch {
	case errors.Is(err, auth.ErrUnknownUser):
		return "", errBadLink
	case err != nil:
		return "", err
	}
	switch {
	case bound(rec, bindConfirm, email) && addressOf(u) == auth.NormalizeLogin(email):
		if err := a.can.emails.SetEmail(ctx, u.Subject, addressOf(u), true); err != nil {
			return "", err
		}
	case bound(rec, bindChange, email):
		old := addressOf(u)
		if old != "" && old != email {
			// Reset links went to the old address: whoever reads it
			// must not reset the password once the account has left
			// it. First, so that a store failure moves nothing.
			if _, err := a.cfg.Tokens.RevokeAll(ctx, u.Subject, store.Filter{Kind: store.KindReset}); err != nil {
				return "", err
			}
		}
		if err := a.can.emails.SetEmail(ctx, u.Subject, email, true); err != nil {
			return "", err
		}
		if old != "" && old != email {
			if err := a.cfg.Mailer.Send(ctx, auth.Message{Purpose: PurposeEmailChanged, To: old, Subject: u.Subject}); err != nil {
				return "", err
			}
		}
	default:
		return "", errBadLink
	}
	a.rec.Record(ctx, audit.EmailConfirmed, slog.String(audit.KeySubject, u.Subject))
	return u.Subject, nil
}

// resendConfirmation mails the signed-in user a new link for their
// address, unless it is confirmed (409 already_confirmed).
func (a *Account) resendConfirmation(ctx context.Context, client netip.Prefix, u auth.User) error {
	if err := need(a.can.emails != nil, "account.EmailSetter"); err != nil {
		return err
	}
	if u.EmailConfirmed {
		return errAlreadyConfirmed
	}
	if err := a.allowAccount(ctx, limit.Mail, client, u.Subject); err != nil {
		return err
	}
	return a.sendToken(ctx, u.Subject, bindConfirm, auth.PurposeConfirmEmail, addressOf(u))
}

// allowAccount takes one unit of class for a signed-in user's own
// request: here a refusal is answered (429), since it tells the user
// nothing they do not know.
func (a *Account) allowAccount(ctx context.Context, class limit.Class, client netip.Prefix, subject string) error {
	if a.limiter == nil {
		return nil
	}
	return a.limiter.Allow(ctx, class, client, subject)
}

// proveOwner checks the signed-in user's password again: routes that
// change the account need it, so that a session left open on a shared
// computer cannot take the account over. It goes through auth's login,
// lockout and rate limit included: guessing through it costs what
// guessing at the login does.
func (a *Account) proveOwner(ctx context.Context, client netip.Prefix, r reqInfo, u auth.User, pw, field string) error {
	if pw == "" {
		return passwordRequired(field)
	}
	login := addressOf(u)
	if login == "" {
		login = u.Username
	}
	got, err := a.cfg.Auth.Authenticate(ctx, auth.Credentials{Login: login, Password: pw, Client: client, KnownDevice: r.knownDevice})
	switch {
	case errors.Is(err, auth.ErrUnknownUser):
		return auth.ErrInvalidCredentials
	case errors.Is(err, auth.ErrUnconfirmed):
		// The password was right; whether the address is confirmed is
		// not the question here.
		return nil
	case err != nil:
		return err
	case got.Subject != u.Subject:
		return auth.ErrInvalidCredentials
	}
	return nil
}

// changePassword sets a new password after the current one, and ends
// every other session and device of the account.
func (a *Account) changePassword(ctx context.Context, client netip.Prefix, r reqInfo, s session, current, next, code string) error {
	p, u := s.p, s.user
	if err := need(a.can.hashes != nil, "auth.HashUpdater"); err != nil {
		return err
	}
	if next == "" {
		return &auth.FieldError{Field: "new_password", Reason: "missing"}
	}
	if err := a.proveOwner(ctx, client, r, u, current, "current_password"); err != nil {
		return err
	}
	if err := a.cfg.Auth.CheckNewPassword(ctx, next, addressOf(u), u.Username); err != nil {
		return err
	}
	// A session that did not pass the account's second factor gives a
	// code of it (after the new password passed its policy, so that a
	// refused one spends no code): else a phished session with the
	// password would set a password of its own, ending the owner's
	// sessions and keeping its.
	if err := a.proveFactorIfAny(ctx, s, code); err != nil {
		return err
	}
	hash, err := a.cfg.Auth.HashPassword(ctx, next, client)
	if err != nil {
		return err
	}
	if err := a.can.hashes.UpdatePasswordHash(ctx, u.Subject, hash); err != nil {
		return err
	}
	if err := a.endOthers(ctx, p); err != nil {
		return err
	}
	a.rec.Record(ctx, audit.PasswordChanged, slog.String(audit.KeySubject, u.Subject))
	return nil
}

// endOthers ends every token of the principal's subject but its own
// session: other sessions, device chains, login links, pending
// confirmations and resets. A session that came from a device chain ends
// with that chain: the device must sign in again.
func (a *Account) endOthers(ctx context.Context, p middleware.Principal) error {
	if _, err := a.cfg.Auth.LogoutEverywhere(ctx, p.Subject, store.KindSession); err != nil {
		return err
	}
	_, err := a.cfg.Auth.RevokeOtherSessions(ctx, p.Subject, p.SessionID())
	return err
}

// changeEmail starts moving the account to a new address, after the
// password: the new address gets a link, and the change takes effect
// when it is confirmed. When the address has an account, its owner is
// told instead, and the answer is the same.
func (a *Account) changeEmail(ctx context.Context, client netip.Prefix, r reqInfo, s session, email, pw, code string) error {
	u := s.user
	if err := need(a.can.emails != nil, "account.EmailSetter"); err != nil {
		return err
	}
	email, err := validEmail("email", email)
	if err != nil {
		return err
	}
	if email == addressOf(u) {
		return &auth.FieldError{Field: "email", Reason: reasonSameEmail}
	}
	if err := a.proveOwner(ctx, client, r, u, pw, "password"); err != nil {
		return err
	}
	// As for the password: the address is how the account is recovered.
	if err := a.proveFactorIfAny(ctx, s, code); err != nil {
		return err
	}
	if err := a.allowAccount(ctx, limit.Mail, client, u.Subject); err != nil {
		return err
	}
	other, err := a.users.FindUser(ctx, email)
	switch {
	case err == nil && other.Subject != u.Subject:
		return a.mail(ctx, client, noticeKey(other.Subject), auth.Message{Purpose: PurposeAddressInUse, To: addressOf(other), Subject: other.Subject})
	case err != nil && !errors.Is(err, auth.ErrUnknownUser):
		return err
	}
	// The link takes from the mail budget as the notice above does (the
	// client's, and the address's), dropped alike past it: else a taken
	// address would cost the client more than a free one, and counting
	// the answers before a 429 would tell which addresses have accounts.
	if ok, err := a.mailAllowed(ctx, client, addressKey(email)); !ok {
		return err
	}
	return a.sendToken(ctx, u.Subject, bindChange, PurposeConfirmNewEmail, email)
}

// addressKey is the mail budget's account key of an address that has
// no account: a hash, never the text a client typed.
func addressKey(email string) string {
	h := sha256.Sum256([]byte(auth.NormalizeLogin(email)))
	return "address:" + base64.RawURLEncoding.EncodeToString(h[:18])
}

// deleteAccount deletes the signed-in user's account after the password,
// and ends every token it had. A session that did not pass the account's
// second factor gives a code of it too (proveFactorIfAny): the password
// alone, which a phished session has, must not take away the account
// with every factor that guards it.
func (a *Account) deleteAccount(ctx context.Context, client netip.Prefix, r reqInfo, s session, pw, code string) error {
	u := s.user
	if err := need(a.can.deleter != nil, "account.Deleter"); err != nil {
		return err
	}
	if err := a.proveOwner(ctx, client, r, u, pw, "password"); err != nil {
		return err
	}
	if err := a.proveFactorIfAny(ctx, s, code); err != nil {
		return err
	}
	// Tokens first: if the store is down nothing is deleted, and the user
	// can try again; the other way round, sessions of a deleted account
	// would live on.
	if _, err := a.cfg.Auth.LogoutEverywhere(ctx, u.Subject); err != nil {
		return err
	}
	// Linked identities next: left behind, a provider identity would
	// point at no account, and its owner could neither log in with it nor
	// sign up again with it.
	if err := a.unlinkAll(ctx, u.Subject); err != nil {
		return err
	}
	if err := a.can.deleter.DeleteUser(ctx, u.Subject); err != nil {
		return err
	}
	a.rec.Record(ctx, audit.AccountDeleted, slog.String(audit.KeySubject, u.Subject))
	a.deleteFactors(context.WithoutCancel(ctx), u.Subject)
	return nil
}

// deleteFactors removes a deleted account's second factors and passkeys:
// they are the user's data as much as the account is, and left under the
// subject they would open any account given that subject again. After
// the user is gone, so that a failure here never leaves a live account
// without its factors; best effort, told to the operator.
func (a *Account) deleteFactors(ctx context.Context, subject string) {
	var errs []error
	if a.cfg.MFA != nil {
		// An account that never had a factor gets no record written.
		st, err := a.cfg.MFA.Enrolled(ctx, subject)
		if err != nil || st.TOTP || st.Pending || st.RecoveryCodes > 0 {
			errs = append(errs, a.cfg.MFA.Remove(ctx, subject))
		}
	}
	if a.cfg.Passkeys != nil {
		list, err := a.cfg.Passkeys.List(ctx, subject)
		errs = append(errs, err)
		for _, c := range list {
			errs = append(errs, a.cfg.Passkeys.Remove(ctx, subject, c.ID))
		}
	}
	if err := errors.Join(errs...); err != nil && a.cfg.Logger != nil {
		a.cfg.Logger.ErrorContext(ctx, "account: a deleted account's factors were not all removed",
			slog.String(audit.KeySubject, subject), slog.String("error", err.Error()))
	}
}

// forgotPassword mails a reset link when the address has an account,
// answering alike either way (auth.RequestPasswordReset).
func (a *Account) forgotPassword(ctx context.Context, client netip.Prefix, email string) error {
	if err := need(a.can.hashes != nil, "auth.HashUpdater"); err != nil {
		return err
	}
	if err := a.allowClient(ctx, limit.Reset, client); err != nil {
		return err
	}
	err := a.cfg.Auth.RequestPasswordReset(ctx, email)
	var fe *auth.FieldError
	var ce *auth.ConfigError
	switch {
	case err == nil, errors.As(err, &fe), errors.As(err, &ce), errors.Is(err, store.ErrUnavailable):
		// The store work is the same for every address, so a store that
		// is down fails them all alike.
		return err
	}
	// What is left happens only for an address with an account (the
	// Mailer failed) or tells nothing of one (the user table failed):
	// the operator hears of it, the client gets everyone's answer, or a
	// mail outage would tell which addresses have accounts.
	if a.cfg.Logger != nil {
		a.cfg.Logger.ErrorContext(ctx, "account: password reset not sent", slog.String("error", err.Error()))
	}
	return nil
}

// resetPassword spends a reset link and sets the new password
// (auth.ConfirmPasswordReset: every token of the account ends).
func (a *Account) resetPassword(ctx context.Context, client netip.Prefix, token, pw string) error {
	if err := need(a.can.hashes != nil, "auth.HashUpdater"); err != nil {
		return err
	}
	if err := a.allowClient(ctx, limit.Reset, client); err != nil {
		return err
	}
	if token == "" {
		return &auth.FieldError{Field: "token", Reason: "missing"}
	}
	subject, err := a.cfg.Auth.ConfirmPasswordReset(ctx, auth.PasswordReset{Token: token, Password: pw, Client: client})
	if err != nil {
		return err
	}
	return a.confirmByReset(ctx, subject)
}

// confirmByReset marks the account's address confirmed after a reset:
// the link went to that address (auth mails User.Email), so whoever used
// it reads its mail. This is how a user whose confirmation link expired
// gets in (forgot password), and it is safe against a stranger who signed
// up with their address first: the reset replaced the stranger's password
// and ended every token of the account before the address counted as
// confirmed. Without an EmailSetter the address stays as it was.
func (a *Account) confirmByReset(ctx context.Context, subject string) error {
	if a.can.emails == nil {
		return nil
	}
	u, err := a.users.FindSubject(ctx, subject)
	switch {
	case errors.Is(err, auth.ErrUnknownUser):
		return nil
	case err != nil:
		return err
	case u.EmailConfirmed || u.Email == "":
		return nil
	}
	if err := a.can.emails.SetEmail(ctx, subject, addressOf(u), true); err != nil {
		return err
	}
	a.rec.Record(ctx, audit.EmailConfirmed, slog.String(audit.KeySubject, subject))
	return nil
}

// validUsername checks an optional username. It may not hold an '@',
// nor a character NFKC makes one ('＠'): logins look accounts up by
// address or username alike, so a username that is an address (once a
// table that normalises usernames has normalised it) would squat on that
// address's future account.
func validUsername(name string) error {
	switch {
	case name == "":
		return nil
	case len(name) > maxUsername:
		return &auth.FieldError{Field: "username", Reason: "too long"}
	case name != strings.TrimSpace(name) || strings.ContainsRune(norm.NFKC.String(name), '@') || strings.ContainsFunc(name, isControl):
		return &auth.FieldError{Field: "username", Reason: "invalid"}
	}
	return nil
}

// addressOf is the account's address, normalised.
func addressOf(u auth.User) string { return auth.NormalizeLogin(u.Email) }

// waitUntil sleeps until t, or until ctx ends.
func waitUntil(ctx context.Context, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
	case <-ctx.Done():
	}
}
