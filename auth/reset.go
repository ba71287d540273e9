package auth

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/password"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// RequestPasswordReset mails a one-time password reset token
// (tokens.Config.ResetTTL, 1 hour by default) to email, when it is the
// address of an active account. Redeem it with ConfirmPasswordReset.
//
// The answer does not tell whether the address belongs to anyone: an
// unknown address, a deactivated account, an account that has had
// MaxMessagesPerHour resets mailed in the last hour, and an account whose
// token a full store (store.ErrFull) could not keep all return nil and
// send nothing. Each of them does the same number of store calls as a real
// request (a counter, a token-sized write or lookup), stores nothing for an
// address of no account, and every
// request that gets that far takes at least Config.ResetMinDuration (10 ms
// by default), which hides the rest of the difference: issuing and mailing
// a token. A Mailer slower than that shows through, so one that talks to a
// slow mail server should queue the message and return.
//
// The mail goes to the account's stored address, User.Email, not to the
// one typed (they differ when FindUser matches case- or
// collation-insensitively); only when User.Email is empty does it go to
// the typed address, normalised.
//
// It needs Config.Mailer and Config.Users implementing HashUpdater: without
// them it answers a *ConfigError naming what is missing, whatever email is.
// A missing email is a *FieldError, and so is one without an '@'. Errors
// otherwise are failures: the store (wrapping
// store.ErrUnavailable), Users, or the Mailer. Report them to the operator;
// answering the client the same as on success keeps Mailer failures, which
// happen only for real accounts, from revealing them.
func (a *Authenticator) RequestPasswordReset(ctx context.Context, email string) error {
	if err := a.needs("RequestPasswordReset", true, true); err != nil {
		return err
	}
	login := NormalizeLogin(email)
	switch {
	case login == "":
		return &FieldError{Field: "email", Reason: "missing"}
	case len(login) > maxLoginBytes:
		return &FieldError{Field: "email", Reason: "too long"}
	case !strings.Contains(login, "@"):
		return &FieldError{Field: "email", Reason: "invalid"}
	}
	// Wall time, not a.now: the floor is about what a client measures.
	defer waitUntil(ctx, time.Now().Add(a.resetMin))
	user, err := a.users.FindUser(ctx, login)
	if err != nil && !errors.Is(err, ErrUnknownUser) {
		return fmt.Errorf("auth: finding user: %w", err)
	}
	if err == nil && user.Active {
		to := user.Email
		if to == "" {
			to = login
		}
		err := a.send(ctx, PurposeResetPassword, store.KindReset, user.Subject, to)
		switch {
		case errors.Is(err, ErrRateLimited):
			return nil
		case errors.Is(err, store.ErrUnavailable):
			// A store can refuse writes and still answer reads: a full
			// memory store, Redis at maxmemory (OOM), a replica promoted
			// late (READONLY). An unknown address only reads, so it would
			// get nil where this one got 503, and the store would tell
			// which addresses have accounts. The operator learns of it
			// from the audit event; the client gets what an unknown
			// address gets from the store as it is now (503 when the
			// store cannot even be read).
			a.record(ctx, audit.TokenIssued, audit.StoreUnavailable, "reset", err, subjectAttr(user.Subject))
			return a.pretendReset(ctx, login)
		}
		return err
	}
	return a.pretendReset(ctx, login)
}

// pretendReset does the store work of a reset for an address that gets
// none, and stores nothing: an address of no account must not take room in
// the store (a flood of them would fill it). It reads a counter as send
// writes one, and looks up a random token of the reset kind as send
// stores one: the same number of round trips; Config.ResetMinDuration
// hides the rest.
func (a *Authenticator) pretendReset(ctx context.Context, login string) error {
	if _, err := a.counters.Peek(ctx, "mail:"+string(PurposeResetPassword)+":n:"+login); err != nil {
		return err
	}
	tok, err := a.tokens.Unissued(store.KindReset, "n:"+login)
	if err != nil {
		return err
	}
	if _, err := a.tokens.Validate(ctx, store.KindReset, tok); err != nil && !errors.Is(err, tokens.ErrInvalid) {
		return err
	}
	return nil
}

// PasswordReset is what a user presents to set a new password.
type PasswordReset struct {
	Token    string // the reset token from the Message
	Password string // the new password
	// Client is the client's address (clientaddr.FromRequest), for its
	// turn at hashing.
	Client netip.Prefix
	// Related are words the new password may not be (see
	// CheckNewPassword): the user's name and email address, when the app
	// has them at hand.
	Related []string
}

// ConfirmPasswordReset spends a reset token and sets the new password of
// its subject, which it returns. In order:
//   - Config.Users must implement HashUpdater, else a *ConfigError;
//   - a missing new password is a *FieldError, one over the Hasher's
//     length limit password.ErrTooLong;
//   - the token must be live (tokens.ErrMissing, ErrMalformed, ErrWrongKind
//     or ErrInvalid otherwise), checked before the policy and any hashing;
//   - the new password is checked as CheckNewPassword checks it
//     (Config.PasswordPolicy), against r.Related and, when Users is a
//     SubjectFinder, the account's address and username; the token is not
//     spent;
//   - the password is hashed, in NFC, with Config.Hasher (password.ErrBusy when no hashing
//     slot frees up in time; the token is not spent);
//   - the token is spent: of concurrent confirmations exactly one goes on;
//   - the hash goes to Users' UpdatePasswordHash (see HashUpdater);
//   - every live token of the subject is ended, like Deactivate does:
//     sessions in every project, device chains, login links, pending
//     verifications and other reset tokens;
//   - every lockout counter of the account is cleared (of each of its
//     names, from every client), so a user who locked themselves out can
//     log in with the new password at once. The attempts an attacker
//     spent on the old password are spent on a password that is gone.
//
// A store failure wraps store.ErrUnavailable. If it happens after the token
// is spent, the password may be set while some tokens live on: call
// Deactivate or LogoutEverywhere to retry ending them.
func (a *Authenticator) ConfirmPasswordReset(ctx context.Context, r PasswordReset) (subject string, err error) {
	defer func() {
		a.record(ctx, audit.TokenRedeemed, audit.TokenRejected, "reset", err, kindAttr(store.KindReset), subjectAttr(subject), clientAttr(r.Client))
	}()
	if err := a.needs("ConfirmPasswordReset", false, true); err != nil {
		return "", err
	}
	if r.Password == "" {
		return "", &FieldError{Field: "password", Reason: "missing"}
	}
	// The length only, before the token: the policy's checks cost more,
	// and a breach checker asks another service, which a stranger
	// without a live token must not make the server do.
	if err := password.CheckLen(a.hasher, password.Normalize(r.Password)); err != nil {
		return "", err
	}
	up := a.users.(HashUpdater) // checked first
	// A cheap lookup first, so that only the holder of a live token can
	// make the server check the policy and hash.
	held, err := a.tokens.Validate(ctx, store.KindReset, r.Token)
	if err != nil {
		return "", err
	}
	related := r.Related
	if f, ok := a.users.(SubjectFinder); ok {
		u, err := f.FindSubject(ctx, held.Subject)
		if err != nil && !errors.Is(err, ErrUnknownUser) {
			return "", fmt.Errorf("auth: finding the user of a reset: %w", err)
		}
		related = append(slices.Clip(related), u.Email, u.Username)
	}
	if err := a.CheckNewPassword(ctx, r.Password, related...); err != nil {
		return "", err
	}
	hash, err := a.hashInTurn(ctx, r.Client, password.Normalize(r.Password))
	if err != nil {
		return "", err
	}
	rec, err := a.tokens.Consume(ctx, store.KindReset, r.Token)
	if err != nil {
		return "", err
	}
	subject = rec.Subject
	if err := up.UpdatePasswordHash(ctx, subject, hash); err != nil {
		return "", fmt.Errorf("auth: saving the new password: %w", err)
	}
	if _, err := a.tokens.RevokeAll(ctx, subject, store.Filter{}); err != nil {
		return subject, fmt.Errorf("auth: ending the tokens of %q: %w", subject, err)
	}
	if err := a.attempts.ClearAttempts(ctx, accountGroup(subject)); err != nil {
		return subject, fmt.Errorf("auth: clearing the lockout of %q: %w", subject, err)
	}
	return subject, nil
}

// waitUntil returns at t, or when ctx ends.
func waitUntil(ctx context.Context, t time.Time) {
	d := time.Until(t)
	if d <= 0 {
		return
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}
