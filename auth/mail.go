package auth

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/problem"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// ErrRateLimited: too many messages of one purpose for one account in the
// last hour (429 rate_limited).
var ErrRateLimited = problem.New("auth: too many messages; try again later", problem.Error{
	Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "too many requests; try again later"})

// Purpose says what a Message is for.
type Purpose string

// Purposes of the messages gatehouse sends.
const (
	PurposeConfirmEmail  Purpose = "confirm_email"
	PurposeResetPassword Purpose = "reset_password"
)

// Message is a one-time token on its way to a user. The Mailer turns it
// into an email (a link to the app's confirmation page, say).
type Message struct {
	Purpose   Purpose
	To        string // the address: the account's stored one (User.Email) for a reset
	Subject   string // the user's subject
	Token     string // the secret: put it in the link, never in a log
	ExpiresAt time.Time
}

// Mailer delivers messages. The app implements it over its mail service.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// MaxMessagesPerHour bounds the messages of one purpose sent for one
// account in an hour.
const MaxMessagesPerHour = 5

// SendEmailConfirmation sends subject a one-time token that confirms the
// address to (tokens.Config.VerificationTTL, 24 hours by default). Redeem it
// with ConfirmEmail. to is the address being confirmed, as the app stores
// it on the account (User.Email), not as a client typed it in a request. A new address should revoke older tokens first
// (tokens.Manager.RevokeAll with store.KindVerification).
//
// It needs Config.Mailer: without it, it answers a *ConfigError.
func (a *Authenticator) SendEmailConfirmation(ctx context.Context, subject, to string) error {
	if err := a.needs("SendEmailConfirmation", true, false); err != nil {
		return err
	}
	return a.send(ctx, PurposeConfirmEmail, store.KindVerification, subject, to)
}

// ConfirmEmail spends a confirmation token and returns the subject whose
// address it confirms; the app then marks the address confirmed. Of
// concurrent redemptions exactly one succeeds. A link of package
// account's (bound to an address and a purpose) is tokens.ErrInvalid
// here, and spent.
func (a *Authenticator) ConfirmEmail(ctx context.Context, token string) (subject string, err error) {
	defer func() {
		a.record(ctx, audit.TokenRedeemed, audit.TokenRejected, "redeem", err, kindAttr(store.KindVerification), subjectAttr(subject))
	}()
	rec, err := a.tokens.Consume(ctx, store.KindVerification, token)
	if err != nil {
		return "", err
	}
	if err := ownVerification(rec); err != nil {
		return "", err
	}
	return rec.Subject, nil
}

// ownVerification refuses a verification token that auth did not issue:
// auth issues them with no project, while package account binds its
// links to an address and a purpose in the project. Redeemed here, such a
// link (a move to an address its holder reads) would have the app mark
// the account's current address confirmed, which nobody confirmed. The
// token is spent all the same, as a bad link is.
func ownVerification(rec store.Record) error {
	if rec.Project != "" {
		return fmt.Errorf("auth: a verification token bound to a purpose of another package: %w", tokens.ErrInvalid)
	}
	return nil
}

// send issues a token of the kind and mails it; its callers have checked
// that there is a Mailer (see needs).
func (a *Authenticator) send(ctx context.Context, p Purpose, kind store.Kind, subject, to string) error {
	n, err := a.counters.Hit(ctx, "mail:"+string(p)+":"+subject, time.Hour)
	if err != nil {
		return err
	}
	if n.N > MaxMessagesPerHour {
		return ErrRateLimited
	}
	iss, err := a.tokens.Issue(ctx, kind, tokens.Claims{Subject: subject})
	a.record(ctx, audit.TokenIssued, audit.TokenRejected, "issue", err, kindAttr(kind), subjectAttr(subject))
	if err != nil {
		return err
	}
	m := Message{Purpose: p, To: to, Subject: subject, Token: iss.Token, ExpiresAt: iss.Record.ExpiresAt}
	if err := a.mailer.Send(ctx, m); err != nil {
		return fmt.Errorf("auth: sending %s: %w", p, err)
	}
	return nil
}
