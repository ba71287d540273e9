package auth

import (
	"context"
	"net/netip"

	"github.com/gatehouse-go/gatehouse/audit"
	"github.com/gatehouse-go/gatehouse/limit"
	"github.com/gatehouse-go/gatehouse/store"
	"github.com/gatehouse-go/gatehouse/tokens"
)

// LoginExternal logs in the account subject after another party proved
// who the user is (an OpenID provider, through package oidc): no
// password. The app maps the provider's identity to its account first,
// on the identity's issuer and subject only, never on an email address.
//
// It takes one unit of the client's limit.Login rate, finds the account
// as it is now (with a SubjectFinder Users: an unknown, deactivated or
// unconfirmed one is refused as a password login would refuse it), and,
// when the account has a second factor (Config.SecondFactor), answers a
// *SecondFactorError with a pending token exactly as a password login
// does: the provider stands in for the password, not for the second
// factor. Otherwise it issues a session of the project at
// AssurancePassword: one factor, proved elsewhere.
//
// Errors: a spent rate limit is a *limit.Error (429); a store failure
// wraps store.ErrUnavailable; an empty subject is a *FieldError.
func (a *Authenticator) LoginExternal(ctx context.Context, subject, project string, client netip.Prefix) (Session, error) {
	ds, err := a.external(ctx, subject, project, "", client)
	return ds.Session, err
}

// LoginExternalRemembered is LoginExternal for a browser that asked to be
// remembered, as LoginRemembered is Login's: it starts a device chain
// under a new random browser name and issues the session in it; keep it
// with SetRememberCookie. With a second factor, the pending token is for
// that chain, and CompleteLoginDevice (or SecondStepHandler) starts it.
func (a *Authenticator) LoginExternalRemembered(ctx context.Context, subject, project string, client netip.Prefix) (DeviceSession, error) {
	return a.external(ctx, subject, project, newBrowserName(), client)
}

// external is LoginExternal, with a device chain when device is set.
func (a *Authenticator) external(ctx context.Context, subject, project, device string, client netip.Prefix) (ds DeviceSession, err error) {
	defer func() {
		if _, ok := err.(*SecondFactorError); !ok {
			a.record(ctx, audit.LoginSucceeded, audit.LoginFailed, "external", err, subjectAttr(subject), clientAttr(client), projectAttr(project))
		}
	}()
	if subject == "" {
		return DeviceSession{}, &FieldError{Field: "subject", Reason: "missing"}
	}
	if a.limiter != nil {
		if err := a.limiter.Allow(ctx, limit.Login, client, ""); err != nil {
			return DeviceSession{}, err
		}
	}
	u, err := a.userNow(ctx, subject)
	if err != nil {
		return DeviceSession{}, err
	}
	now := a.now()
	pending, _, err := a.pend(ctx, u, project, device, "", now)
	if err != nil {
		return DeviceSession{}, err
	}
	if pending != nil {
		return DeviceSession{}, pending
	}
	if device != "" {
		dev, err := a.tokens.Issue(ctx, store.KindDevice, tokens.Claims{Subject: subject, Project: project, Device: device,
			AuthTime: now, Assurance: AssurancePassword})
		a.record(ctx, audit.TokenIssued, audit.TokenRejected, "issue", err, kindAttr(store.KindDevice), subjectAttr(subject), projectAttr(project), deviceAttr(device))
		if err != nil {
			return DeviceSession{}, err
		}
		if err := a.keepNewestChain(ctx, subject, device); err != nil {
			return DeviceSession{}, err
		}
		if ds, err = a.deviceSession(ctx, dev); err != nil {
			// Nobody holds the device token yet: withdraw it. Best effort.
			_ = a.tokens.Revoke(context.WithoutCancel(ctx), store.KindDevice, dev.Token)
			return DeviceSession{}, err
		}
		ds.User, ds.Unconfirmed = u, u.Active && !u.EmailConfirmed
		return ds, nil
	}
	iss, err := a.tokens.Issue(ctx, store.KindSession, tokens.Claims{Subject: subject, Project: project, AuthTime: now,
		Assurance: AssurancePassword})
	a.record(ctx, audit.TokenIssued, audit.TokenRejected, "issue", err, kindAttr(store.KindSession), subjectAttr(subject), projectAttr(project))
	if err != nil {
		return DeviceSession{}, err
	}
	return DeviceSession{Session: Session{User: u, Token: iss.Token, Project: project, ExpiresAt: iss.Record.ExpiresAt,
		Unconfirmed: u.Active && !u.EmailConfirmed}}, nil
}
